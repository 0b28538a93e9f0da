//! Closing a campaign: the summary and the honour list posted in its
//! groups' chats, the announcements showing it has ended.

use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done, Notification};
use crate::app::App;
use crate::campaign::{progress, repo, Campaign, CampaignCode, Totals};
use crate::config::HonourAmounts;
use crate::domain::{group_thousands, Money, Percent};
use crate::group;
use crate::refusal::Refusal;
use crate::roles;

/// What a close did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub campaign: CampaignCode,
    /// How many group chats the summary went to.
    pub posted: usize,
    pub summary: String,
}

impl Closed {
    /// What the closer reads.
    pub fn text(&self) -> String {
        let Closed { campaign, posted, summary } = self;
        format!("Đã kết thúc {campaign} và đăng tổng kết lên {posted} nhóm chat.\n\n{summary}")
    }
}

/// The summary: what was received, against the target, what is still
/// outstanding, and the honour list.
fn summary(campaign: &Campaign, totals: &Totals, honour: &[(String, i64)], amounts: HonourAmounts) -> String {
    let mut summary = format!(
        "🎉 KẾT THÚC VẬN ĐỘNG {}: {}\nĐã nhận: {} đ, {} lượt ủng hộ của {} hộ.",
        campaign.code,
        campaign.title,
        group_thousands(totals.received),
        totals.contributions,
        totals.households
    );
    if let Some(target) = campaign.target {
        summary.push_str(&format!("\nMục tiêu: {target} (đạt {}).", Percent::of(totals.received, target.dong())));
    }
    if totals.outstanding > 0 {
        summary.push_str(&format!("\nĐã đăng ký nhưng chưa nhận: {} đ.", group_thousands(totals.outstanding)));
    }
    if !honour.is_empty() {
        summary.push_str("\n\nXin trân trọng cảm ơn:");
        for (i, (name, amount)) in honour.iter().enumerate() {
            match amounts {
                HonourAmounts::Exact => {
                    let shown = Money::from_dong(*amount).map(|m| m.to_string()).unwrap_or_default();
                    summary.push_str(&format!("\n{}. {name} — {shown}", i + 1));
                }
                HonourAmounts::Hidden => summary.push_str(&format!("\n{}. {name}", i + 1)),
            }
        }
    }
    summary
}

/// **Close a campaign** (the action): its creator or an official, once.
/// Audited (`campaign.close`); the summary goes to every chat of its
/// groups, then its announcements are edited to say it has ended (and lose
/// their **Ủng hộ** choice).
pub async fn close(app: &App, conn: &mut SqliteConnection, actor: &Actor, code: CampaignCode) -> Acted<Closed> {
    let Some(campaign) = repo::get(&mut *conn, code).await? else {
        return Err(Refusal::not_found("cuộc vận động", code).into());
    };
    if campaign.created_by != actor.user && !roles::is_official(&mut *conn, actor.user).await? {
        return Err(Refusal::OnlyFor {
            who: "người tạo cuộc vận động hoặc cán bộ phường", to: "kết thúc được"
        }
        .into());
    }
    if !repo::close(&mut *conn, code, actor.user, actor.at).await? {
        return Err(Refusal::state(format!("Cuộc vận động {code} đã kết thúc từ trước.")).into());
    }
    crate::audit::record(&mut *conn, actor, "campaign.close", &format!("campaign:{}", code.id()), None).await?;
    let campaign = repo::get(&mut *conn, code).await?.ok_or_else(|| anyhow::anyhow!("campaign vanished"))?;
    let totals = repo::totals(&mut *conn, code).await?;
    let honour = repo::honour_list(&mut *conn, code).await?;
    let summary = summary(&campaign, &totals, &honour, app.settings.honour_amounts);
    let mut told = Vec::new();
    for g in repo::groups_of(&mut *conn, code).await? {
        for chat in group::chats_of(&mut *conn, g).await? {
            told.push(Notification::chat(&chat, summary.clone()));
        }
    }
    let posted = told.len();
    told.push(progress::edit_all(app, &mut *conn, &campaign, actor.at).await?);
    Ok(Done::new(Closed { campaign: code, posted, summary }, told))
}

#[cfg(test)]
mod tests {
    use super::super::tests as fixtures;
    use super::*;
    use crate::action::{Door, To};
    use crate::refusal::Stop;
    use crate::testing::Ward;

    async fn try_close(ward: &Ward, actor: &Actor, code: CampaignCode) -> Acted<Closed> {
        let mut tx = ward.tx().await;
        let acted = close(&ward.app, &mut tx, actor, code).await;
        tx.commit().await.unwrap();
        acted
    }

    #[tokio::test]
    async fn the_creator_closes_and_the_groups_read_the_summary() {
        let ward = Ward::new().await;
        let campaign = fixtures::campaign(&ward, false).await;
        let received = fixtures::pledge_of(&ward, campaign, "500k").await;
        fixtures::pledge_of(&ward, campaign, "200k").await;
        let mut tx = ward.tx().await;
        repo::decide_pledge(&mut tx, received, Some(Money::parse("500k").unwrap()), ward.leader, ward.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let actor = ward.actor_at(ward.leader, Door::Web);
        let done = try_close(&ward, &actor, campaign).await.unwrap();
        let summary = &done.outcome.summary;
        for expected in [
            format!("🎉 KẾT THÚC VẬN ĐỘNG {campaign}: Sửa đường"),
            "Đã nhận: 500.000 đ, 1 lượt ủng hộ của 1 hộ.".into(),
            "Mục tiêu: 2.500.000 đ (đạt 20%).".into(),
            "Đã đăng ký nhưng chưa nhận: 200.000 đ.".into(),
            "1. Nguyễn Cư Dân — 500.000 đ".into(),
        ] {
            assert!(summary.contains(&expected), "{expected} in {summary}");
        }
        assert_eq!(done.outcome.posted, 1);
        assert!(done.outcome.text().starts_with(&format!("Đã kết thúc {campaign} và đăng tổng kết lên 1 nhóm chat.")));
        let [to_group, edit] = done.told.as_slice() else { panic!("{:?}", done.told) };
        assert_eq!((&to_group.to, &to_group.text), (&To::Chat(ward.chat("-1001")), summary));
        assert_eq!(edit.to, To::Posts(format!("campaign:{}", campaign.id())));
        assert!(edit.text.ends_with("Cuộc vận động đã kết thúc. Xin cảm ơn bà con!"), "{}", edit.text);
        assert!(edit.choices.is_empty(), "no more pledges");
        let audit = ward.audit().await;
        let row = (
            Some(ward.leader),
            "campaign.close".into(),
            format!("campaign:{}", campaign.id()),
            None,
            Some("web".into()),
        );
        assert_eq!(audit, [row]);

        // Once: a second close is refused for its state.
        let again = try_close(&ward, &ward.actor(ward.official), campaign).await;
        match again {
            Err(Stop::Refused(Refusal::State(s))) => {
                assert_eq!(s, format!("Cuộc vận động {campaign} đã kết thúc từ trước."))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ward.audit().await.len(), 1);
    }

    #[tokio::test]
    async fn only_the_creator_and_officials_may_close() {
        // The leader created it; the other leader and a resident may not, nor
        // may a leader of its group who did not create it.
        for (role, may) in [("official", true), ("leader", true), ("other leader", false), ("resident", false)] {
            let ward = Ward::new().await;
            let campaign = fixtures::campaign(&ward, false).await;
            let acted = try_close(&ward, &ward.actor(fixtures::who(&ward, role)), campaign).await;
            if may {
                let done = acted.unwrap_or_else(|e| panic!("{role}: {e:?}"));
                assert_eq!(done.outcome.campaign, campaign, "{role}");
            } else {
                assert!(matches!(acted, Err(Stop::Refused(Refusal::OnlyFor { .. }))), "{role}: {acted:?}");
                assert!(ward.audit().await.is_empty(), "{role}: a refusal writes nothing");
            }
        }
        let ward = Ward::new().await;
        let officials = fixtures::campaign_by(&ward, ward.official, false, false).await;
        let acted = try_close(&ward, &ward.actor(ward.leader), officials).await;
        assert!(matches!(acted, Err(Stop::Refused(Refusal::OnlyFor { .. }))), "{acted:?}");
        let missing = try_close(&ward, &ward.actor(ward.official), CampaignCode::new(99)).await;
        assert!(matches!(missing, Err(Stop::Refused(Refusal::NotFound { .. }))), "{missing:?}");
    }
}
