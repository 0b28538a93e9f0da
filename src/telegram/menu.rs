//! The command menu Telegram shows, per chat scope, from the catalog in
//! [`crate::help`].

use teloxide::prelude::*;
use teloxide::types::{BotCommand, BotCommandScope, ChatId, Recipient};

use crate::commands::{commands_for, Place};
use crate::roles::{self, Role};

fn commands(role: Role, place: Place) -> Vec<BotCommand> {
    commands_for(role, place).map(|c| BotCommand::new(c.name, c.description)).collect()
}

/// Registers the menus. A refusal is logged and the bot runs on: the menu is
/// a convenience, every command works without it.
pub async fn register_commands(bot: &Bot, db: &crate::db::Database) {
    let mut scopes = vec![
        (BotCommandScope::AllPrivateChats, commands(Role::Resident, Place::Private)),
        (BotCommandScope::AllGroupChats, commands(Role::Resident, Place::Group)),
    ];
    match db.read().await {
        Ok(mut conn) => match roles::official_telegram_ids(&mut conn).await {
            Ok(ids) => {
                for id in ids.iter().filter_map(|id| id.parse::<i64>().ok()) {
                    scopes.push((
                        BotCommandScope::Chat { chat_id: Recipient::Id(ChatId(id)) },
                        commands(Role::Official, Place::Private),
                    ));
                }
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "cannot list officials for their menu"),
        },
        Err(e) => tracing::warn!(error = %e, "cannot list officials for their menu"),
    }
    for (scope, list) in scopes {
        if let Err(e) = bot.set_my_commands(list).scope(scope).await {
            tracing::warn!(error = %e, "Telegram refused the command menu; running without it");
        }
    }
}
