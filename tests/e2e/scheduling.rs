//! Time-driven work on the bot's clock (issue 32): the scheduler sleeps
//! until the next moment any job falls due and moving the test clock wakes
//! it, so a reminder goes at its moment, not on a beat. The beat here is a
//! day: nothing is done unless the clock brings it.

use chrono::{DateTime, Duration, Utc};

use crate::consultations::ask;
use crate::digital::{set_up, R1};
use crate::support::*;
use todanpho::clock::Clock;

#[tokio::test]
async fn a_reminder_and_a_close_go_at_their_moment_on_the_test_clock() {
    let bot = TestBot::start_with_beat(86_400.0).await;
    set_up(&bot).await;
    let preview = ask(&bot, &LEADER, "Làm mái che nhà văn hoá tổ?", "Mỗi hộ", "Công khai", "2 ngày").await;
    bot.tap(&LEADER, &preview, "Gửi").await;
    bot.wait_for(GROUP_CHAT, "LẤY Ý KIẾN YK1", 1).await;
    let closes_at: DateTime<Utc> =
        sqlx::query_scalar("SELECT closes_at FROM consultations WHERE id = 1").fetch_one(bot.db()).await.unwrap();
    let due = closes_at - Duration::hours(24);

    // A second before: nothing, however long the scheduler is left alone.
    bot.clock.set(due - Duration::seconds(1));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!bot.messages_to(R1.id).iter().any(|m| m.text.contains("⏰ Nhắc")), "reminded before its time");
    // At the moment: the reminder, and the clock has not moved meanwhile.
    bot.clock.set(due);
    bot.wait_for(R1.id, "⏰ Nhắc", 1).await;
    bot.wait_for(LEADER.id, "chưa cho ý kiến (hạn", 1).await;
    assert_eq!(bot.clock.now(), due);

    // The 2-hour reminder likewise, once more.
    let second = closes_at - Duration::hours(2);
    bot.clock.set(second - Duration::seconds(1));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(bot.messages_to(R1.id).iter().filter(|m| m.text.contains("⏰ Nhắc")).count(), 1, "early");
    bot.clock.set(second);
    bot.wait_for(R1.id, "⏰ Nhắc", 2).await;

    // The close likewise: not a second early, then at once.
    bot.clock.set(closes_at - Duration::seconds(1));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!bot.messages_to(GROUP_CHAT).iter().any(|m| m.text.contains("KẾT QUẢ LẤY Ý KIẾN YK1")), "closed early");
    bot.clock.set(closes_at);
    bot.wait_for(GROUP_CHAT, "KẾT QUẢ LẤY Ý KIẾN YK1", 1).await;
    let status: String =
        sqlx::query_scalar("SELECT status FROM consultations WHERE id = 1").fetch_one(bot.db()).await.unwrap();
    assert_eq!(status, "closed");
    assert_eq!(
        bot.messages_to(R1.id).iter().filter(|m| m.text.contains("⏰ Nhắc")).count(),
        2,
        "reminded once at each distance"
    );
    bot.finish().await;
}
