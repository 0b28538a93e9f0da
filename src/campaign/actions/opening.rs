//! Creating a campaign: its row, and its announcement posted in every chat
//! of the groups in scope, kept to be edited as money comes in.

use chrono::NaiveDate;
use sqlx::SqliteConnection;

use crate::action::{Acted, Actor, Done, Notification};
use crate::app::App;
use crate::campaign::repo::{self, NewCampaign};
use crate::campaign::{progress, BankAccount, CampaignCode};
use crate::domain::Money;
use crate::group;
use crate::refusal::Refusal;
use crate::roles;

/// Where a campaign is announced and takes pledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One group (its id): its leaders or an official may create it.
    Group(i64),
    /// Every group of the ward: officials only.
    Ward,
}

/// A campaign as its creator describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub title: String,
    pub purpose: String,
    pub target: Option<Money>,
    /// The last day it takes pledges, in the ward's time.
    pub deadline: NaiveDate,
    pub accepts_cash: bool,
    /// Where transfers go; none for cash only.
    pub bank: Option<BankAccount>,
    pub scope: Scope,
}

/// What was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    pub campaign: CampaignCode,
    /// How many group chats it is announced in.
    pub chats: usize,
}

impl Created {
    /// What the creator reads.
    pub fn text(&self) -> String {
        let Created { campaign: code, chats } = self;
        format!(
            "✅ Đã tạo cuộc vận động {code} và đăng lên {chats} nhóm chat. Mỗi khi có người ủng hộ, bot sẽ nhắn bác để xác nhận đã nhận tiền. Gõ /quy để xem tổng, /ketthuc {code} để kết thúc."
        )
    }
}

/// Why a plan cannot be a campaign on the ward's day of `today`, if it
/// cannot.
fn unusable(plan: &Plan, today: NaiveDate) -> Option<String> {
    if plan.title.trim().is_empty() || plan.purpose.trim().is_empty() {
        return Some("Xin nhập tên cuộc vận động.".into());
    }
    if plan.deadline < today {
        return Some(format!("Hạn ủng hộ phải từ hôm nay ({}) trở đi.", today.format("%d/%m/%Y")));
    }
    if !plan.accepts_cash && plan.bank.is_none() {
        return Some("Xin chọn cách nhận tiền.".into());
    }
    None
}

/// **Create a campaign** (the action): a group's leaders or an official
/// for one group, officials for the whole ward. Audited
/// (`campaign.create`); its announcement is posted in each chat of each
/// group in scope with its **Ủng hộ** choice, kept under the campaign's
/// tag.
pub async fn create(app: &App, conn: &mut SqliteConnection, actor: &Actor, plan: Plan) -> Acted<Created> {
    match plan.scope {
        Scope::Group(g) if !roles::can_manage_group(&mut *conn, actor.user, g).await? => {
            return Err(Refusal::OnlyFor {
                who: "tổ trưởng, tổ phó hoặc cán bộ phường", to: "tạo được cuộc vận động"
            }
            .into());
        }
        Scope::Ward if !roles::is_official(&mut *conn, actor.user).await? => {
            return Err(Refusal::OnlyFor {
                who: "cán bộ phường", to: "tạo được cuộc vận động toàn phường"
            }
            .into());
        }
        _ => {}
    }
    let today = actor.at.with_timezone(&app.settings.timezone).date_naive();
    if let Some(problem) = unusable(&plan, today) {
        return Err(Refusal::input(problem).into());
    }
    let groups: Vec<i64> = match plan.scope {
        Scope::Group(g) => {
            if group::by_id(&mut *conn, g).await?.is_none() {
                return Err(Refusal::state("Tổ dân phố này không còn trên bot.").into());
            }
            vec![g]
        }
        Scope::Ward => group::all(&mut *conn).await?.into_iter().map(|g| g.id).collect(),
    };
    let new = NewCampaign {
        title: &plan.title,
        purpose: &plan.purpose,
        target: plan.target,
        deadline: plan.deadline,
        accepts_cash: plan.accepts_cash,
        bank: plan.bank.as_ref(),
        groups: &groups,
        ward_wide: plan.scope == Scope::Ward,
        created_by: actor.user,
    };
    let code = repo::insert(&mut *conn, new, actor.at).await?;
    crate::audit::record(&mut *conn, actor, "campaign.create", &format!("campaign:{}", code.id()), None).await?;
    let campaign = repo::get(&mut *conn, code).await?.ok_or_else(|| anyhow::anyhow!("campaign vanished"))?;
    let (text, choices) = progress::announcement(app, &mut *conn, &campaign, actor.at).await?;
    let mut told = Vec::new();
    for g in &groups {
        for chat in group::chats_of(&mut *conn, *g).await? {
            told.push(Notification::chat(&chat, text.clone()).with_choices(choices.clone()).kept_as(campaign.tag()));
        }
    }
    Ok(Done::new(Created { campaign: code, chats: told.len() }, told))
}

#[cfg(test)]
mod tests {
    use super::super::tests as fixtures;
    use super::*;
    use crate::action::{Choice, Door, To};
    use crate::refusal::Stop;
    use crate::testing::Ward;

    fn plan(ward: &Ward, scope: Scope) -> Plan {
        Plan {
            title: "Sửa đường".into(),
            purpose: "Đổ bê tông ngõ 12".into(),
            target: Some(Money::parse("50tr").unwrap()),
            deadline: ward.now().date_naive() + chrono::Days::new(30),
            accepts_cash: true,
            bank: None,
            scope,
        }
    }

    async fn try_create(ward: &Ward, actor: &Actor, plan: Plan) -> Acted<Created> {
        let mut tx = ward.tx().await;
        let acted = create(&ward.app, &mut tx, actor, plan).await;
        tx.commit().await.unwrap();
        acted
    }

    #[tokio::test]
    async fn a_leader_creates_a_campaign_announced_in_the_groups_chat() {
        let ward = Ward::new().await;
        let actor = ward.actor_at(ward.leader, Door::Cli);
        let done = try_create(&ward, &actor, plan(&ward, Scope::Group(ward.group))).await.unwrap();
        let code = done.outcome.campaign;
        assert_eq!(done.outcome.chats, 1);
        assert!(done.outcome.text().starts_with(&format!("✅ Đã tạo cuộc vận động {code} và đăng lên 1 nhóm chat.")));
        let [post] = done.told.as_slice() else { panic!("{:?}", done.told) };
        assert_eq!(post.to, To::Chat(ward.chat("-1001")));
        assert_eq!(post.keep, Some(format!("campaign:{}", code.id())));
        assert!(post.text.starts_with(&format!("📢 VẬN ĐỘNG ỦNG HỘ {code}: Sửa đường")), "{}", post.text);
        assert!(post.text.contains("░░░░░░░░░░ 0% · 0 đ / 50.000.000 đ · 0 hộ"), "{}", post.text);
        assert_eq!(post.choices, [vec![Choice::private("💝 Ủng hộ", format!("uh-{}", code.id()))]]);
        let mut tx = ward.tx().await;
        let campaign = repo::get(&mut tx, code).await.unwrap().unwrap();
        drop(tx);
        assert_eq!((campaign.created_by, campaign.ward_wide, campaign.open), (ward.leader, false, true));
        let audit = ward.audit().await;
        let row =
            (Some(ward.leader), "campaign.create".into(), format!("campaign:{}", code.id()), None, Some("cli".into()));
        assert_eq!(audit, [row]);
    }

    #[tokio::test]
    async fn leaders_create_for_their_own_group_officials_for_any_and_for_the_ward() {
        for (role, own, other, ward_wide) in [
            ("official", true, true, true),
            ("leader", true, false, false),
            ("other leader", false, true, false),
            ("resident", false, false, false),
        ] {
            let ward = Ward::new().await;
            let actor = ward.actor(fixtures::who(&ward, role));
            for (scope, may) in
                [(Scope::Group(ward.group), own), (Scope::Group(ward.other_group), other), (Scope::Ward, ward_wide)]
            {
                let acted = try_create(&ward, &actor, plan(&ward, scope)).await;
                if may {
                    let done = acted.unwrap_or_else(|e| panic!("{role} {scope:?}: {e:?}"));
                    let chats = if scope == Scope::Ward { 2 } else { 1 };
                    assert_eq!(done.outcome.chats, chats, "{role} {scope:?}");
                } else {
                    assert!(
                        matches!(acted, Err(Stop::Refused(Refusal::OnlyFor { .. }))),
                        "{role} {scope:?}: {acted:?}"
                    );
                }
            }
            let created = [own, other, ward_wide].into_iter().filter(|m| *m).count();
            assert_eq!(ward.audit().await.len(), created, "{role}: only what was created is audited");
        }
    }

    #[tokio::test]
    async fn a_ward_wide_campaign_is_announced_in_every_groups_chats() {
        let ward = Ward::new().await;
        let third = ward.add_group("Tổ 3", "-1003").await;
        let done = try_create(&ward, &ward.actor(ward.official), plan(&ward, Scope::Ward)).await.unwrap();
        let to: Vec<_> = done.told.iter().map(|n| n.to.clone()).collect();
        let chats = ["-1001", "-1002", "-1003"].map(|c| To::Chat(ward.chat(c)));
        assert_eq!(to, chats);
        assert_eq!(done.outcome.chats, 3);
        let mut tx = ward.tx().await;
        let groups = repo::groups_of(&mut tx, done.outcome.campaign).await.unwrap();
        assert_eq!(groups, [ward.group, ward.other_group, third]);
    }

    #[tokio::test]
    async fn a_past_deadline_no_way_to_give_a_blank_title_and_a_gone_group_are_refused() {
        let ward = Ward::new().await;
        let leader = ward.actor(ward.leader);
        let official = ward.actor(ward.official);
        let yesterday =
            Plan { deadline: ward.now().date_naive() - chrono::Days::new(1), ..plan(&ward, Scope::Group(ward.group)) };
        let nothing = Plan { accepts_cash: false, ..plan(&ward, Scope::Group(ward.group)) };
        let blank = Plan { title: " ".into(), ..plan(&ward, Scope::Group(ward.group)) };
        for wrong in [yesterday, nothing, blank] {
            let acted = try_create(&ward, &leader, wrong.clone()).await;
            assert!(matches!(acted, Err(Stop::Refused(Refusal::Input(_)))), "{wrong:?}: {acted:?}");
        }
        let gone = try_create(&ward, &official, plan(&ward, Scope::Group(999))).await;
        assert!(matches!(gone, Err(Stop::Refused(Refusal::State(_)))), "{gone:?}");
        assert!(ward.audit().await.is_empty());
    }
}
