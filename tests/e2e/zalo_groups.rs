//! The tổ's Zalo group: what the bot shows there is the asker's own to
//! answer (issue 33's capabilities; issue 39's groups).

use crate::support::*;
use crate::zalo::{assert_zalo_wording, wait, Zalo, AN};

/// Two residents in the tổ's Zalo group: the options the bot shows there
/// are the asker's own, kept per (chat, person) and committed with the
/// update that showed them, so one resident's answer in the group never
/// takes, or clears, the other's numbers (issue 33).
#[tokio::test]
async fn two_residents_in_a_zalo_group_each_answer_their_own_numbers() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    for answer in crate::scripts::campaign(1) {
        bot.private(&LEADER, &answer).await;
    }
    const GROUP: &str = "zgr-5f1e2d3c4b5a";
    const BINH: &str = "0b1c2d3e4f5a6b7c8d9e";
    sqlx::query(
        "INSERT INTO group_chats (channel, chat_id, group_id, linked_at)
         SELECT 'zalo', ?, id, '2026-11-01T00:00:00Z' FROM groups WHERE name = 'Tổ dân phố số 12'",
    )
    .bind(GROUP)
    .execute(bot.db())
    .await
    .expect("the tổ's Zalo group");
    let zalo = Zalo::start(&bot).await;
    let say = |who: &'static str, name: &'static str, group: bool, text: &str| {
        let id = if group { zalo.fake.group_text(GROUP, who, name, text) } else { zalo.fake.text(who, name, text) };
        let bot = &bot;
        async move { wait(bot, &id).await }
    };
    let menu = |who: &str| {
        format!("SELECT COUNT(*) FROM zalo_menus WHERE chat_id = '{GROUP}' AND person_id = '{who}' AND options LIKE '%ug:%'")
    };
    // Both have written to the bot in private before.
    say(AN, "Bác An", false, "/help").await;
    say(BINH, "Bác Bình", false, "/help").await;

    say(AN, "Bác An", true, "/ungho").await;
    let offer = zalo.fake.last_to(GROUP);
    assert!(
        offer.contains("Mời bác chọn cuộc vận động") && offer.contains("Bác trả lời bằng số:\n1. 💝 UH1"),
        "{offer}"
    );
    assert_eq!(bot.count(&menu(AN)).await, 1, "committed with the update that showed it");

    // Bình is answered in the same group without options: An's numbers
    // stay An's, and Bình's «1» picks nothing of hers (group chatter).
    say(BINH, "Bác Bình", true, "/help").await;
    let (group_before, binh_before) = (zalo.fake.texts_to(GROUP).len(), zalo.fake.texts_to(BINH).len());
    say(BINH, "Bác Bình", true, "1").await;
    assert_eq!((zalo.fake.texts_to(GROUP).len(), zalo.fake.texts_to(BINH).len()), (group_before, binh_before));
    assert_eq!(bot.count(&menu(BINH)).await, 0);

    say(AN, "Bác An", true, "1").await;
    assert!(zalo.fake.last_to(AN).contains("bao nhiêu"), "An's pledge, in private: {}", zalo.fake.last_to(AN));
    say(BINH, "Bác Bình", true, "/ungho").await;
    assert_eq!(bot.count(&menu(BINH)).await, 1);
    say(BINH, "Bác Bình", true, "1").await;
    assert!(zalo.fake.last_to(BINH).contains("bao nhiêu"), "Bình's own: {}", zalo.fake.last_to(BINH));
    assert_eq!(bot.count("SELECT COUNT(*) FROM dialogues WHERE flow = 'pledge'").await, 2, "one pledge each");
    assert_zalo_wording(&zalo.fake);
    zalo.stop().await;
    bot.finish().await;
}
