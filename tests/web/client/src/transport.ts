// Sends a typed document by its persisted-document id only, as the GraphQL-over-HTTP
// persisted-documents convention has it: `{ "documentId": "sha256:<hex>", "variables": … }`.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

/** A refusal from the server, with its `extensions.code`. */
export class GraphQLRefusal extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

interface GraphQLResponse<Result> {
  data?: Result | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** The hash codegen put in place of the document (`persistedDocuments.mode: replaceDocumentWithHash`). */
function documentId(document: TypedDocumentNode<unknown, never>): string {
  const hash = (document as unknown as { __meta__?: { hash?: string } }).__meta__?.hash;
  if (!hash) throw new Error('the document carries no persisted-document hash: rerun codegen');
  return `sha256:${hash}`;
}

export async function execute<Result, Variables>(
  endpoint: string,
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
  token?: string,
): Promise<Result> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(endpoint, {
    method: 'POST',
    headers,
    body: JSON.stringify({ documentId: documentId(document as TypedDocumentNode<unknown, never>), variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as GraphQLResponse<Result>;
  const first = body.errors?.[0];
  if (first) throw new GraphQLRefusal(first.message, first.extensions?.code);
  if (!body.data) throw new Error(`HTTP ${response.status} with neither data nor errors`);
  return body.data;
}
