//! Leaders review households: **Duyệt / Từ chối** on a new registration or
//! on a change to an approved one. The press names the decision; the
//! action ([`super::actions::review`]) checks who may take it, so a forged
//! or stale press changes nothing.

use crate::refusal::Handled;
use crate::turn::Turn;

use super::actions;
use crate::channel::{Keyboard, MessageRef};

pub use super::actions::ReviewButton;

/// A press on Duyệt / Từ chối: the decision, then the reviewer's card shows
/// it and the head is told.
pub async fn on_button(
    turn: &mut Turn,
    button: ReviewButton,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let actor = turn.actor();
    let done = actions::review(turn.db.write().await?, &actor, button).await?;
    turn.out.answer(callback_id, Some(done.outcome.text()));
    if let Some(message) = message {
        let when = turn.app.settings.show_time(actor.at);
        turn.out.edit(message, done.outcome.card(&turn.caller.name, &when), Keyboard::none());
    }
    turn.tell(done.told).await?;
    Ok(())
}
