// The operations this client runs, as typed documents: codegen turns each into a document
// typed against schema.graphql and a persisted-documents.json entry, and tsc checks their use.
import { graphql } from '../generated/gql.js';

export const Login = graphql(`
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      token
      expiresAt
      principal {
        username
        permissions
      }
    }
  }
`);

export const CreateBlacklistEntry = graphql(`
  mutation CreateBlacklistEntry($input: CreateBlacklistEntryInput!) {
    createBlacklistEntry(input: $input) {
      id
      ip
      remark
      createdBy
      createdAt
    }
  }
`);

export const BlacklistEntries = graphql(`
  query BlacklistEntries($filter: BlacklistFilter, $first: Int) {
    blacklistEntries(filter: $filter, first: $first) {
      totalCount
      nodes {
        id
        ip
        remark
        createdAt
      }
    }
  }
`);

export const Logout = graphql(`
  mutation Logout {
    logout
  }
`);
