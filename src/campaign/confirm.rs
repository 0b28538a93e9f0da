//! Leaders confirm money: **Đã nhận tiền / Chưa nhận** under each pledge,
//! `/xacnhan P0345 [số tiền thực nhận]`, and `/ghinhan` for cash from
//! someone not on the bot. Only received money counts; every decision is
//! audited; a pledge already received cannot be counted again.

use crate::turn::Turn;

use super::actions::{self, confirm, Said};
use super::{CampaignCode, PledgeCode};
use crate::channel::{Button, Keyboard, MessageRef};
use crate::domain::Money;
use crate::refusal::{Handled, Refusal, Stop};

/// Callback data: `pl:ok:<pledge>` and `pl:no:<pledge>`.
pub fn parse_button(data: &str) -> Option<(PledgeCode, bool)> {
    let mut parts = data.strip_prefix("pl:")?.split(':');
    let received = match parts.next()? {
        "ok" => true,
        "no" => false,
        _ => return None,
    };
    let code = parts.next()?.parse::<i64>().ok().filter(|n| *n > 0).map(PledgeCode::new)?;
    parts.next().is_none().then_some((code, received))
}

pub async fn on_button(
    turn: &mut Turn,
    code: PledgeCode,
    received: bool,
    callback_id: &str,
    message: Option<&MessageRef>,
) -> Handled {
    let said = if received { Said::Received(None) } else { Said::NotReceived };
    let actor = turn.actor();
    let done = confirm(&turn.app, turn.db.write().await?, &actor, code, said).await?;
    let text = done.outcome.text();
    turn.tell(done.told).await?;
    turn.out.answer(callback_id, Some(text.clone()));
    if let Some(m) = message {
        let keyboard = if received {
            Keyboard::none()
        } else {
            Keyboard::single(Button::callback("✅ Đã nhận tiền", format!("pl:ok:{}", code.id())))
        };
        turn.out.edit(m, text, keyboard);
    }
    Ok(())
}

/// `/xacnhan P0345 [số tiền thực nhận]`.
pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    const USAGE: &str = "Cách dùng: /xacnhan P0345 [số tiền thực nhận], ví dụ: /xacnhan P0345 450k";
    let mut words = args.splitn(2, char::is_whitespace);
    let Some(code) = words.next().and_then(PledgeCode::parse) else {
        return Err(Refusal::input(USAGE).into());
    };
    let amount = match words.next().map(str::trim).filter(|s| !s.is_empty()) {
        Some(typed) => match Money::parse(typed) {
            Ok(m) => Some(m),
            Err(_) => {
                return Err(Refusal::input(format!(
                    "Số tiền «{typed}» chưa đúng. Ví dụ: 500k, 1tr5, 1.500.000.\n{USAGE}"
                ))
                .into());
            }
        },
        None => None,
    };
    let actor = turn.actor();
    let done = match confirm(&turn.app, turn.db.write().await?, &actor, code, Said::Received(amount)).await {
        Err(Stop::Refused(Refusal::Input(problem))) => return Err(Refusal::input(format!("{problem}\n{USAGE}")).into()),
        other => other?,
    };
    let chat = turn.msg.chat.clone();
    turn.out.send(&chat, done.outcome.text());
    turn.tell(done.told).await?;
    Ok(())
}

/// `/ghinhan UH1 500k Nguyễn Văn Bình`: cash handed to the leader by
/// someone not on the bot.
pub async fn record_cash(turn: &mut Turn, args: &str) -> Handled {
    const USAGE: &str =
        "Cách dùng: /ghinhan <mã vận động> <số tiền> <họ tên người ủng hộ>\nVí dụ: /ghinhan UH1 500k Nguyễn Văn Bình";
    let mut words = args.split_whitespace();
    let code = words.next().and_then(CampaignCode::parse);
    let amount = words.next().map(Money::parse);
    let name = crate::text::squash(&words.collect::<Vec<_>>().join(" "));
    let (Some(code), Some(Ok(amount))) = (code, amount) else {
        return Err(Refusal::input(USAGE).into());
    };
    let actor = turn.actor();
    let done = match actions::record_cash(&turn.app, turn.db.write().await?, &actor, code, amount, &name).await {
        Err(Stop::Refused(Refusal::Input(problem))) => return Err(Refusal::input(format!("{problem}\n{USAGE}")).into()),
        other => other?,
    };
    turn.tell(done.told).await?;
    let chat = turn.msg.chat.clone();
    turn.out.send(&chat, done.outcome.text());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons() {
        assert_eq!(parse_button("pl:ok:12"), Some((PledgeCode::new(12), true)));
        assert_eq!(parse_button("pl:no:3"), Some((PledgeCode::new(3), false)));
        for junk in ["pl:ok", "pl:yes:1", "pl:ok:0", "pl:ok:1:2", "pl:ok:x"] {
            assert_eq!(parse_button(junk), None, "{junk}");
        }
    }
}
