//! One open subscription socket: the handshake within its time limit, then the protocol relayed
//! until the client leaves or the token ends.
//!
//! The token is re-read every WS_TOKEN_RECHECK_MS (one store read per socket per period) rather
//! than pushed: idle expiry and a passing `exp` happen without any event to push, and a poll
//! covers them, logouts, revocations and permission changes alike, on every store. The read does
//! not renew the token: an open socket is not use, so a token nobody uses still dies after
//! TOKEN_IDLE_TTL_SECS and takes its subscriptions with it.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::{
    Data,
    http::{WebSocketProtocols, WsMessage},
};
use axum::{
    body::Bytes,
    extract::ws::{CloseFrame, Message, WebSocket},
};
use futures_util::{SinkExt, StreamExt, future, stream, stream::SplitSink};
use tokio::time::{Instant, MissedTickBehavior, interval_at};

use super::handshake::{self, CloseReason, FORBIDDEN, INIT_TIMEOUT, STORE_UNAVAILABLE};
use crate::{
    auth::{RequestAuth, request::Session},
    http::{client_ip::ClientIp, connection::ConnectionLease, graphql, server::HttpState},
    lock::ignoring_poison,
};

/// A client that takes no message for this long is cut: a socket must not hold its slot by not reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the closing frame may take to go out.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// A `subscribe` whose document a POST would have had refused (see [`graphql::passes_checks`]):
/// the socket is closed, as the protocol closes it for any message it cannot accept.
const REFUSED_DOCUMENT: CloseReason = CloseReason {
    code: 4400,
    reason: "the document is refused by the server's limits",
};

/// Subscriptions one socket may hold open at once: each holds a receiver and a stream, so a
/// token with `blacklist:read` must not be able to open them without end on one connection.
pub const MAX_SUBSCRIPTIONS: usize = 32;

/// A `subscribe` beyond [`MAX_SUBSCRIPTIONS`] open ones.
const TOO_MANY_SUBSCRIPTIONS: CloseReason = CloseReason {
    code: 4429,
    reason: "too many subscriptions open on this socket",
};

const SHUTTING_DOWN: CloseReason = CloseReason {
    code: 1001,
    reason: "the server is shutting down",
};

/// Serves the socket to its end; the lease (its connection slot) is held until then.
pub async fn serve(
    websocket: WebSocket,
    http: Arc<HttpState>,
    client: ClientIp,
    mut lease: ConnectionLease,
) {
    let (mut sink, mut incoming) = websocket.split();
    let sessions = &http.state.sessions;
    let handshake = tokio::time::timeout(
        http.websocket.init_timeout,
        handshake::authenticate(&mut incoming, sessions),
    );
    let session = match handshake.await {
        Ok(Ok(session)) => session,
        Ok(Err(refusal)) => return close(&mut sink, refusal).await,
        Err(_) => return close(&mut sink, INIT_TIMEOUT).await,
    };
    let auth = RequestAuth::Authenticated(session.clone());
    let mut data = Data::default();
    data.insert(auth.clone());
    data.insert(client);
    let refused = Arc::new(Mutex::new(None));
    let open = Arc::new(Mutex::new(HashSet::new()));
    // The handshake was read here; the protocol still answers it, with its acknowledgement.
    let init = Bytes::from_static(br#"{"type":"connection_init"}"#);
    let input = stream::once(future::ready(init)).chain(
        incoming
            .take_while(|message| future::ready(message.is_ok()))
            .filter_map(|message| {
                future::ready(match message {
                    Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                        Some(message.into_data())
                    }
                    _ => None,
                })
            })
            .then({
                let http = Arc::clone(&http);
                let open = Arc::clone(&open);
                move |message| {
                    let http = Arc::clone(&http);
                    let auth = auth.clone();
                    let open = Arc::clone(&open);
                    async move {
                        let refusal = refusal(&http, &message, &auth, &open).await;
                        (message, refusal)
                    }
                }
            })
            .take_while({
                let refused = Arc::clone(&refused);
                move |(_, refusal)| {
                    let accepted = refusal.is_none();
                    *ignoring_poison(&refused) = *refusal;
                    future::ready(accepted)
                }
            })
            .map(|(message, _)| message),
    );
    let protocol = async_graphql::http::WebSocket::new(
        http.schema.clone(),
        input,
        WebSocketProtocols::GraphQLWS,
    )
    .connection_data(data);
    let ending = tokio::select! {
        () = relay(protocol, &mut sink, &open) => *ignoring_poison(&refused),
        reason = watch_token(&http, &session) => Some(reason),
        () = lease.stopping() => Some(SHUTTING_DOWN),
    };
    if let Some(reason) = ending {
        close(&mut sink, reason).await;
    }
}

/// Why a client message may not go on to the protocol, if it may not: a `subscribe` must pass
/// the checks a POST's document would, and find room among the socket's open subscriptions. A
/// message this cannot read is refused rather than passed on, so that no spelling the protocol
/// reads differently (a repeated key, say) slips a document by.
async fn refusal(
    http: &HttpState,
    message: &Bytes,
    auth: &RequestAuth,
    open: &OpenSubscriptions,
) -> Option<CloseReason> {
    #[derive(serde::Deserialize)]
    struct Message {
        r#type: String,
        id: Option<String>,
        payload: Option<serde_json::Value>,
    }
    let Ok(message) = serde_json::from_slice::<Message>(message) else {
        return Some(REFUSED_DOCUMENT);
    };
    match message.r#type.as_str() {
        "subscribe" => {}
        "complete" => {
            if let Some(id) = &message.id {
                ignoring_poison(open).remove(id);
            }
            return None;
        }
        _ => return None,
    }
    let passes = match message
        .payload
        .map(serde_json::from_value::<async_graphql::Request>)
    {
        Some(Ok(request)) => graphql::passes_checks(http, request, auth).await,
        _ => false,
    };
    if !passes {
        return Some(REFUSED_DOCUMENT);
    }
    let mut open = ignoring_poison(open);
    match message.id {
        // The protocol itself closes on a repeated id (4409); that is not one more.
        Some(id) if open.len() < MAX_SUBSCRIPTIONS || open.contains(&id) => {
            open.insert(id);
            None
        }
        Some(_) => Some(TOO_MANY_SUBSCRIPTIONS),
        None => None,
    }
}

/// The ids of the subscriptions a socket holds open, as the client subscribed them and until
/// either side completes them. Locked ignoring poison, like the refusal beside it: each lock
/// inserts, removes or sets one value, which a panic cannot leave half-written.
type OpenSubscriptions = Mutex<HashSet<String>>;

/// The id of a message from the server that ends a subscription (`complete` or `error`). Only
/// such messages are read: the envelope's `type` comes first, so `next` events cost a prefix test.
fn ended_subscription(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Ending {
        id: String,
    }
    let ends = text.starts_with(r#"{"type":"complete""#) || text.starts_with(r#"{"type":"error""#);
    ends.then(|| serde_json::from_str::<Ending>(text).ok())
        .flatten()
        .map(|ending| ending.id)
}

/// Sends what the protocol says until it ends: the client left, broke the protocol (the
/// protocol's own closing frame is sent), or stopped reading.
async fn relay(
    protocol: impl futures_util::Stream<Item = WsMessage>,
    sink: &mut SplitSink<WebSocket, Message>,
    open: &OpenSubscriptions,
) {
    let mut protocol = std::pin::pin!(protocol);
    while let Some(message) = protocol.next().await {
        let text = match message {
            WsMessage::Text(text) => text,
            WsMessage::Close(code, reason) => {
                return send_close(sink, code, reason).await;
            }
        };
        if let Some(id) = ended_subscription(&text) {
            ignoring_poison(open).remove(&id);
        }
        let sent = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Text(text.into()))).await;
        if !matches!(sent, Ok(Ok(()))) {
            return;
        }
    }
}

/// Resolves when the session's token is no longer alive, or no longer grants every permission it
/// granted when the socket opened as far as it reached then (a grant leaves the socket open; the
/// guards saw the old set, and the subscriptions filter by the old reach).
async fn watch_token(http: &HttpState, session: &Session) -> CloseReason {
    let every = http.websocket.token_recheck;
    let mut ticks = interval_at(Instant::now() + every, every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match http.state.sessions.recheck(session).await {
            Ok(Some(now)) if now.keeps_rights_of(&session.principal) => {}
            Ok(_) => return FORBIDDEN,
            Err(error) => {
                tracing::warn!(%error, "closing a subscription socket: cannot check its token");
                return STORE_UNAVAILABLE;
            }
        }
    }
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, reason: CloseReason) {
    send_close(sink, reason.code, reason.reason.to_owned()).await;
}

/// Sends the closing frame (bounded), after which dropping the socket ends the connection.
async fn send_close(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: String) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
}
