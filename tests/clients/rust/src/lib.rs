//! A typed client of the blacklist API, its operations generated from the repository's
//! schema.graphql by `graphql_client`: a schema change that breaks them fails the build.

pub mod error;
pub mod operations;

use graphql_client::{GraphQLQuery, QueryBody, Response};
use serde::Serialize;

pub use error::ClientError;
use operations::{
    BlacklistEntries, CreateBlacklistEntry, Login, Logout, blacklist_entries,
    create_blacklist_entry, login,
};

/// One caller of one server: it keeps the token `login` returned and sends it until `logout`.
pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    token: Option<String>,
}

impl Client {
    /// A client of the GraphQL endpoint at `endpoint` (`http://host:port/graphql`).
    pub fn new(http: reqwest::Client, endpoint: impl Into<String>) -> Self {
        Self {
            http,
            endpoint: endpoint.into(),
            token: None,
        }
    }

    /// The token in use, if logged in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Logs in; later calls carry the token.
    pub async fn login(
        &mut self,
        username: &str,
        password: &str,
    ) -> Result<login::LoginLogin, ClientError> {
        let variables = login::Variables {
            username: username.to_owned(),
            password: password.to_owned(),
        };
        let payload = self.send::<Login>(variables).await?.login;
        self.token = Some(payload.token.clone());
        Ok(payload)
    }

    pub async fn create_entry(
        &self,
        ip: &str,
        remark: Option<&str>,
    ) -> Result<create_blacklist_entry::CreateBlacklistEntryCreateBlacklistEntry, ClientError> {
        let variables = create_blacklist_entry::Variables {
            input: create_blacklist_entry::CreateBlacklistEntryInput {
                ip: ip.to_owned(),
                remark: remark.map(str::to_owned),
                bpm_status: None,
            },
        };
        Ok(self
            .send::<CreateBlacklistEntry>(variables)
            .await?
            .create_blacklist_entry)
    }

    /// The first page of entries whose address contains `ip_contains`.
    pub async fn entries(
        &self,
        ip_contains: &str,
    ) -> Result<blacklist_entries::BlacklistEntriesBlacklistEntries, ClientError> {
        let variables = blacklist_entries::Variables {
            filter: Some(blacklist_entries::BlacklistFilter {
                ip_contains: Some(ip_contains.to_owned()),
                created_by: None,
                created_after: None,
                created_before: None,
            }),
            first: Some(100),
        };
        Ok(self
            .send::<BlacklistEntries>(variables)
            .await?
            .blacklist_entries)
    }

    /// Revokes the token; the client keeps it, so a caller can show that it is refused now.
    pub async fn logout(&self) -> Result<bool, ClientError> {
        Ok(self
            .send::<Logout>(operations::logout::Variables)
            .await?
            .logout)
    }

    async fn send<Q: GraphQLQuery>(
        &self,
        variables: Q::Variables,
    ) -> Result<Q::ResponseData, ClientError>
    where
        QueryBody<Q::Variables>: Serialize,
    {
        let mut request = self
            .http
            .post(&self.endpoint)
            .json(&Q::build_query(variables));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response: Response<Q::ResponseData> = request.send().await?.json().await?;
        ClientError::check(response)
    }
}
