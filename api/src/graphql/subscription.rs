//! Live updates, served over WebSocket (`graphql-transport-ws`) on `/graphql`; the socket
//! itself (authentication, limits, close codes) is `crate::http::websocket`.

use async_graphql::{Context, ID, Subscription as SubscriptionRoot};
use futures_util::Stream;
use tokio::sync::mpsc;

use super::context::{authenticator_arc, principal};
use super::errors::ApiError;
use super::types::SessionEvent;
use crate::auth::events::notice::EndReason;
use crate::auth::events::session_feed::FeedItem;

/// Live updates, over WebSocket on `/graphql` (the `graphql-transport-ws` protocol of
/// the `graphql-ws` client).
#[derive(Default)]
pub struct Subscription;

/// How a subscription tells the socket it runs on to close: the subscriber's own session
/// ended, so the credential the socket was opened with is dead. The HTTP layer puts one
/// in each socket's data and turns what it receives into a close frame.
#[derive(Clone)]
pub struct SocketEnd(mpsc::Sender<EndReason>);

impl SocketEnd {
    /// The handle, and where the socket hears from it.
    pub fn channel() -> (SocketEnd, mpsc::Receiver<EndReason>) {
        let (sender, receiver) = mpsc::channel(1);
        (SocketEnd(sender), receiver)
    }

    fn close(&self, reason: EndReason) {
        // Full means a close is already on its way.
        let _ = self.0.try_send(reason);
    }
}

/// Live updates, over WebSocket on `/graphql` (the `graphql-transport-ws` protocol of
/// the `graphql-ws` client).
#[SubscriptionRoot]
impl Subscription {
    /// What happens to your account from now on: sessions revoked (which one, why), the
    /// password changed, a refresh token reused, TOTP turned on or off. When your own
    /// session ends (revoked, logged out, reused, password changed, account deleted, or
    /// expired) you get its `SESSION_REVOKED` (if it was revoked) and the socket closes
    /// with code 4401 and a reason naming why. Requires a login session: a personal
    /// token is `FORBIDDEN`.
    async fn session_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "An event id (`eventId`, or an `AuthEvent.id` of `myAuthEvents`): your account's events after it are sent first. Give the last one you saw when you reconnect, so nothing is missed in between."
        )]
        after: Option<ID>,
    ) -> Result<impl Stream<Item = SessionEvent>, ApiError> {
        let who = principal(ctx).await?;
        let feed = authenticator_arc(ctx)?
            .session_feed(&who, after.as_ref().map(|id| id.as_str()))
            .await?;
        let socket = ctx.data_opt::<SocketEnd>().cloned();
        Ok(futures_util::stream::unfold(
            (feed, socket),
            |(mut feed, socket)| async move {
                match feed.next().await? {
                    FeedItem::Notice(notice) => Some((SessionEvent::from(notice), (feed, socket))),
                    // Reached only once the notice before it was sent: the stream is polled
                    // again after the socket wrote its previous item.
                    FeedItem::Ended(reason) => {
                        if let Some(socket) = &socket {
                            socket.close(reason);
                        }
                        None
                    }
                }
            },
        ))
    }
}
