//! Runs dialogues for people in their private chat: starts them, feeds each
//! answer to the engine, saves the state after every turn, and hands a
//! confirmed form to the flow that owns it (its [`Form`], found in the list
//! the caller passes: `crate::forms::ALL`).

use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;
use std::collections::BTreeMap;

pub mod flow;

use crate::channel::{Button, ChatAddr, Keyboard, MessageRef, Replies, ReplyKeyboard};
use crate::dialogue::engine::Special;
use crate::dialogue::store::{self, Loaded};
use crate::dialogue::{Answer, DialogueState, Engine, Input, Prompt, Turn as Step};

/// What a flow says when its form is confirmed.
pub enum Completion {
    /// Saved; the dialogue ends.
    Done,
    /// One answer breaks a rule across answers: ask it again.
    Reask { key: &'static str, message: String },
    /// Nothing can be saved (the group was removed, the role revoked, the
    /// record changed): the dialogue ends, and the person is told why.
    Refused(Refusal),
    /// Nothing can be saved and there is nothing to say (the dialogue's
    /// own context is unreadable).
    Abandoned,
}

/// A dialogue whose confirmed answers a flow saves. Each flow declares its
/// own (`FORM`), and they are listed once, in `crate::forms::ALL`.
pub struct Form {
    /// The dialogue's id in `dialogues/`.
    pub id: &'static str,
    /// The steps the completion reads, with their kinds (`StepKind::name`):
    /// a reworded dialogue file that breaks them is refused at start-up.
    pub needs: &'static [(&'static str, &'static str)],
    /// The counts the flow puts in the dialogue's context when it starts
    /// (the household's members): what a number step of its file may name
    /// as its maximum (`max_from`), besides an earlier step.
    pub counts: &'static [&'static str],
    /// Saves the confirmed answers, in the transaction that ends the
    /// dialogue.
    pub complete: Complete,
}

/// Saves a confirmed form in the update's turn (its transaction is the one
/// that ends the dialogue).
pub type Complete =
    for<'a> fn(&'a mut Turn, &'a DialogueState) -> futures_util::future::BoxFuture<'a, anyhow::Result<Completion>>;

pub fn keyboard(prompt: &Prompt) -> Keyboard {
    let reply = match &prompt.special {
        Special::None => None,
        Special::AskLocation { label, skip } => {
            Some(ReplyKeyboard::AskLocation { label: label.clone(), others: skip.iter().cloned().collect() })
        }
        Special::ClearKeyboard => Some(ReplyKeyboard::Remove),
    };
    Keyboard {
        rows: prompt
            .buttons
            .iter()
            .map(|row| row.iter().map(|(label, data)| Button::callback(label.clone(), data.clone())).collect())
            .collect(),
        reply,
    }
}

fn send_prompts(out: &mut Replies, chat: &ChatAddr, prompts: &[Prompt]) {
    for p in prompts {
        out.send_with(chat, p.text.clone(), keyboard(p));
    }
}

/// Callback data of "Làm lại từ đầu": `cv:re:<flow payload>`.
pub const RESTART_PREFIX: &str = "cv:re:";
/// Callback data of "Làm tiếp".
pub const CONTINUE: &str = "cv:go";

/// Starts `flow` for the caller, unless another dialogue is running: then
/// the person may go on with it, or (when `restart` says how to start the
/// new one again) drop it and start over.
pub async fn start(
    turn: &mut Turn,
    context: BTreeMap<String, String>,
    answers: Option<BTreeMap<String, Answer>>,
    flow: &str,
    restart: Option<&str>,
) -> Handled {
    let Turn { app, caller, db, out, .. } = turn;
    let chat = caller.addr.private_chat();
    let def = app.book.on(caller.addr.channel).get(flow).ok_or_else(|| anyhow::anyhow!("no dialogue named {flow}"))?;
    let engine = Engine::new(app.book.on(caller.addr.channel), def).on_day(app.settings.day(app.clock.now()));
    if let Loaded::Active(running) = db.dialogue(&chat, &caller.addr).await? {
        let title = app.book.on(caller.addr.channel).get(&running.flow).map(|d| d.title.clone()).unwrap_or_default();
        let mut buttons = vec![Button::callback("▶️ Làm tiếp", CONTINUE)];
        if let Some(restart) = restart {
            buttons.push(Button::callback("🔄 Bỏ việc cũ, làm mới", format!("{RESTART_PREFIX}{restart}")));
        }
        out.send_with(
            &chat,
            format!("Bác đang làm dở việc «{title}». Bác muốn làm tiếp việc đó, hay bỏ đi để bắt đầu việc mới? (Gõ /huy để huỷ.)"),
            Keyboard::rows(vec![buttons]),
        );
        return Ok(());
    }
    let (state, prompts) = match answers {
        Some(answers) => engine.start_at_summary(context, answers),
        None => engine.start(context),
    };
    // Saved with the update's last statements; this overwrites an expired
    // dialogue too.
    db.save_dialogue(&chat, &caller.addr, &state).await?;
    send_prompts(out, &chat, &prompts);
    Ok(())
}

/// "Làm tiếp": show the question the person is at.
pub async fn resume(turn: &mut Turn) -> Handled {
    let Turn { app, caller, db, out, .. } = turn;
    let chat = caller.addr.private_chat();
    match db.dialogue(&chat, &caller.addr).await? {
        Loaded::Active(state) => {
            if let Some(def) = app.book.on(caller.addr.channel).get(&state.flow) {
                let p = Engine::new(app.book.on(caller.addr.channel), def)
                    .on_day(app.settings.day(app.clock.now()))
                    .current(&state);
                out.send_with(&chat, p.text.clone(), keyboard(&p));
            }
        }
        _ => out.send(&chat, "Việc đó đã kết thúc hoặc đã huỷ. Gõ /help để xem các lệnh."),
    }
    Ok(())
}

pub async fn drop_running(turn: &mut Turn) -> Handled {
    let Turn { caller, db, .. } = turn;
    db.forget_dialogue(&caller.addr.private_chat(), &caller.addr).await?;
    Ok(())
}

/// `/huy`.
pub async fn cancel(turn: &mut Turn) -> Handled {
    let Turn { caller, msg, db, out, .. } = turn;
    let chat = caller.addr.private_chat();
    let had = db.forget_dialogue(&chat, &caller.addr).await?;
    let text = if had {
        "Đã huỷ. Thông tin bác vừa nhập chưa được lưu. Khi cần, bác gõ lại lệnh để bắt đầu."
    } else {
        "Bác không có việc nào đang làm dở."
    };
    out.send(&msg.chat, text);
    Ok(())
}

/// An answer (text, photo, location or a dialogue button) in private chat.
/// Returns false if no dialogue is running.
pub async fn answer(turn: &mut Turn, input: Input, pressed: Option<&MessageRef>, forms: &[Form]) -> Handled<bool> {
    // The book outlives the borrow of the turn: a confirmed form is saved
    // with the whole turn in hand.
    let book = turn.app.book.clone();
    let Turn { app, caller, db, out, .. } = turn;
    let chat = caller.addr.private_chat();
    let who = caller.addr.clone();
    // Read (most often with the caller, at no cost: see `roles::known`)
    // and work out the step before taking the writer: the update's
    // transaction holds it until the update is committed. Only this
    // person's own updates touch their dialogue, and those come one at a
    // time. A step's new state is deferred to the update's last
    // statements: one round trip at the writer for all.
    let peeked = db.dialogue(&chat, &caller.addr).await?;
    let mut state = match peeked {
        Loaded::Active(state) => state,
        Loaded::Expired => {
            db.forget_dialogue(&chat, &caller.addr).await?;
            out.send(&chat, "Phiên trước đã quá 24 giờ không trả lời nên đã tự huỷ. Xin gõ lại lệnh để bắt đầu lại.");
            return Ok(true);
        }
        Loaded::None => return Ok(false),
    };
    let Some(def) = book.on(caller.addr.channel).get(&state.flow) else {
        db.forget_dialogue(&chat, &caller.addr).await?;
        return Ok(false);
    };
    let engine = Engine::new(book.on(caller.addr.channel), def).on_day(app.settings.day(app.clock.now()));
    match engine.handle(&mut state, input) {
        Step::Continue { replace, send } => {
            db.save_dialogue(&chat, &caller.addr, &state).await?;
            if let (Some(p), Some(message)) = (replace, pressed) {
                out.edit(message, p.text.clone(), keyboard(&p));
            }
            send_prompts(out, &chat, &send);
        }
        Step::Completed => {
            if let Some(message) = pressed {
                let mut summary = engine.summary(&state);
                summary.buttons.clear();
                out.edit(message, summary.text, Keyboard::none());
            }
            // The flow writes its records in the same transaction that ends
            // the dialogue, so a crash leaves either both or neither.
            let form = forms
                .iter()
                .find(|f| f.id == state.flow)
                .ok_or_else(|| anyhow::anyhow!("dialogue {} has no form", state.flow))?;
            match (form.complete)(turn, &state).await? {
                Completion::Done | Completion::Abandoned => {
                    turn.db.forget_dialogue(&chat, &who).await?;
                }
                Completion::Refused(refusal) => {
                    turn.db.forget_dialogue(&chat, &who).await?;
                    turn.out.send(&chat, refusal.to_string());
                }
                Completion::Reask { key, message } => {
                    let prompts = engine.reask(&mut state, key, &message);
                    let now = turn.db.now();
                    store::save(turn.db.write().await?, &chat, &who, &state, now).await?;
                    send_prompts(&mut turn.out, &chat, &prompts);
                }
            }
        }
    }
    Ok(true)
}
