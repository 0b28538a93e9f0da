//! Realistic demo data (names with diacritics, addresses, reports,
//! campaigns, pledges, digital teams' visits) for demos and benchmarks: `todanpho seed-demo`.
//! Deterministic: the same sizes give the same database.

use crate::clock::Clock;
use crate::db::Database;
use chrono::{Duration, Utc};

#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub groups: i64,
    pub households: i64,
    pub reports: i64,
    pub pledges: i64,
}

const SURNAMES: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý",
];
const MIDDLE: &[&str] = &["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thu", "Quang", "Hữu", "Thanh", "Xuân"];
const GIVEN: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Hoa", "Hùng", "Lan", "Linh", "Mai", "Nam", "Phương", "Quân", "Sơn",
    "Tâm", "Thảo", "Trang", "Tuấn", "Yến",
];
const STREETS: &[&str] =
    &["Xuân La", "Lạc Long Quân", "Võ Chí Công", "Nguyễn Hoàng Tôn", "Phú Thượng", "An Dương Vương"];
const CATEGORIES: &[&str] =
    &["ve_sinh", "chieu_sang", "thoat_nuoc", "giao_thong", "an_ninh", "xay_dung", "pccc", "khac"];
const CIRCUMSTANCES: &[&str] = &["poor", "near_poor", "policy", "lonely_elderly", "disability"];

/// xorshift64*: enough randomness for demo data, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Adds `sizes` of demo data, dated back from the clock's now.
pub async fn seed(db: &Database, clock: &dyn Clock, sizes: Sizes) -> anyhow::Result<()> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let now = clock.now();
    let mut tx = db.write().await?;
    let first_group: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM groups").fetch_one(&mut *tx).await?;
    for g in 0..sizes.groups {
        let name = format!("Tổ dân phố số {}", first_group + g);
        sqlx::query("INSERT INTO groups (name, name_folded, expected_households, created_at) VALUES (?, ?, ?, ?)")
            .bind(&name)
            .bind(crate::text::fold(&name))
            .bind(sizes.households / sizes.groups.max(1) + 20)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    let group = |rng: &mut Rng| first_group + rng.below(sizes.groups.max(1) as u64) as i64;
    let first_user: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM users").fetch_one(&mut *tx).await?;
    for i in 0..sizes.households {
        let name = format!("{} {} {}", rng.pick(SURNAMES), rng.pick(MIDDLE), rng.pick(GIVEN));
        sqlx::query(
            "INSERT INTO users (id, channel, external_id, display_name, created_at) VALUES (?, 'demo', ?, ?, ?)",
        )
        .bind(first_user + i)
        .bind((first_user + i).to_string())
        .bind(&name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let members = 1 + rng.below(6) as i64;
        let household: i64 = sqlx::query_scalar(
            "INSERT INTO households (group_id, owner_user_id, head_name, head_name_folded, house_number, lane, street, phone, members,
                smartphone_users, has_epayment, vneid_level2, status, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(group(&mut rng))
        .bind(first_user + i)
        .bind(&name)
        .bind(crate::text::fold(&name))
        .bind((1 + rng.below(200)).to_string())
        .bind(rng.chance(60).then(|| format!("ngõ {}", 1 + rng.below(120))))
        .bind(rng.pick(STREETS))
        .bind(format!("09{:08}", rng.below(100_000_000)))
        .bind(members)
        .bind(if rng.chance(80) { 1 + rng.below(members as u64) as i64 } else { 0 })
        .bind(rng.chance(55))
        .bind(if rng.chance(60) { 1 + rng.below(members as u64) as i64 } else { 0 })
        .bind(if rng.chance(95) { "approved" } else { "pending" })
        .bind(now - Duration::days(rng.below(365) as i64))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if rng.chance(12) {
            sqlx::query("INSERT OR IGNORE INTO household_circumstances (household_id, circumstance) VALUES (?, ?)")
                .bind(household)
                .bind(rng.pick(CIRCUMSTANCES))
                .execute(&mut *tx)
                .await?;
        }
    }
    let users = sizes.households.max(1);
    for _ in 0..sizes.reports {
        let created = now - Duration::minutes(rng.below(90 * 24 * 60) as i64);
        let status =
            ["new", "accepted", "in_progress", "resolved", "resolved", "resolved", "declined"][rng.below(7) as usize];
        let closed = matches!(status, "resolved" | "declined")
            .then(|| created + Duration::minutes(30 + rng.below(5 * 24 * 60) as i64));
        let rating =
            (status == "resolved" && rng.chance(50)).then(|| if rng.chance(80) { "satisfied" } else { "dissatisfied" });
        sqlx::query(
            "INSERT INTO reports (group_id, reporter_user_id, category, description, address, status, rating, created_at, updated_at, closed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(group(&mut rng))
        .bind(first_user + rng.below(users as u64) as i64)
        .bind(rng.pick(CATEGORIES))
        .bind("Phản ánh mẫu: đèn đường hỏng, rác thải chưa thu gom")
        .bind(format!("ngõ {} {}", 1 + rng.below(120), rng.pick(STREETS)))
        .bind(status)
        .bind(rating)
        .bind(created)
        .bind(closed.unwrap_or(created))
        .bind(closed)
        .execute(&mut *tx)
        .await?;
    }
    if sizes.pledges > 0 {
        let creator = first_user;
        for c in 0..5 {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO campaigns (title, purpose, target, deadline, accepts_cash, ward_wide, status, created_by, created_at)
                 VALUES (?, 'Giúp các hộ khó khăn', ?, '2027-12-31', 1, 1, 'open', ?, ?) RETURNING id",
            )
            .bind(format!("Quỹ Vì người nghèo đợt {}", c + 1))
            .bind(500_000_000_i64)
            .bind(creator)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO campaign_groups (campaign_id, group_id) SELECT ?, id FROM groups")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let first_campaign: i64 = sqlx::query_scalar("SELECT MAX(id) - 4 FROM campaigns").fetch_one(&mut *tx).await?;
        for _ in 0..sizes.pledges {
            let amount = [50_000, 100_000, 200_000, 500_000, 1_000_000][rng.below(5) as usize];
            let received = rng.chance(70);
            let user = first_user + rng.below(users as u64) as i64;
            sqlx::query(
                "INSERT INTO pledges (campaign_id, user_id, donor_name, anonymous, method, amount, status, received_amount, created_at)
                 VALUES (?, ?, 'Người ủng hộ', ?, ?, ?, ?, ?, ?)",
            )
            .bind(first_campaign + rng.below(5) as i64)
            .bind(user)
            .bind(rng.chance(30))
            .bind(if rng.chance(50) { "cash" } else { "transfer" })
            .bind(amount)
            .bind(if received { "received" } else { "registered" })
            .bind(received.then_some(amount))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    seed_digital_teams(&mut tx, first_group, sizes.groups, first_user, now).await?;
    tx.commit().await?;
    Ok(())
}

/// One community digital team per ten groups, each with a member, and a
/// visit in the last 30 days to every third approved household, which
/// brought one more person to VNeID level 2 where there was room: what
/// `/tiendo` and the walking list read.
async fn seed_digital_teams(
    tx: &mut sqlx::SqliteConnection,
    first_group: i64,
    groups: i64,
    member: i64,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    for t in 0..(groups + 9) / 10 {
        let name = format!("Tổ công nghệ số {}", first_group / 10 + t + 1);
        let team: i64 = sqlx::query_scalar(
            "INSERT INTO digital_teams (name, name_folded, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(&name)
        .bind(crate::text::fold(&name))
        .bind(member)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let from = first_group + t * 10;
        sqlx::query(
            "INSERT INTO digital_team_groups (team_id, group_id) SELECT ?, id FROM groups WHERE id BETWEEN ? AND ?",
        )
        .bind(team)
        .bind(from)
        .bind((from + 9).min(first_group + groups - 1))
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO digital_team_members (team_id, user_id, added_by, added_at) VALUES (?, ?, ?, ?)")
            .bind(team)
            .bind(member)
            .bind(member)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO visits (household_id, group_id, team_id, by_user_id, visited_on, outcome, vneid_added, recorded_at)
         SELECT h.id, h.group_id, (SELECT tg.team_id FROM digital_team_groups tg WHERE tg.group_id = h.group_id LIMIT 1),
                ?1, date(?2, '-' || (h.id % 30) || ' days'), 'helped', h.vneid_level2 < h.members, ?3
         FROM households h WHERE h.status = 'approved' AND h.id % 3 = 0 AND h.group_id >= ?4",
    )
    .bind(member)
    .bind(now.date_naive().format("%Y-%m-%d").to_string())
    .bind(now)
    .bind(first_group)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO indicator_events (household_id, indicator, before, after, source, visit_id, by_user_id, at)
         SELECT v.household_id, 'vneid_level2', h.vneid_level2, h.vneid_level2 + 1, 'visit', v.id, v.by_user_id,
                v.visited_on || 'T03:00:00+00:00'
         FROM visits v JOIN households h ON h.id = v.household_id WHERE v.vneid_added = 1 AND h.group_id >= ?",
    )
    .bind(first_group)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE households SET vneid_level2 = vneid_level2 + 1
         WHERE group_id >= ? AND id IN (SELECT household_id FROM visits WHERE vneid_added = 1)",
    )
    .bind(first_group)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
