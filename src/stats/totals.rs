//! What `/thongke` reads of the households, from the running totals the
//! database keeps per group (migrations 0022 and 0025): one row a group
//! and one a group and circumstance, whatever the ward's households. The
//! tests below hold the totals against a count from scratch after every
//! kind of write.

use sqlx::SqliteConnection;

use super::{scope_json, GroupFigures, Scope};

/// (id, name, expected, approved, pending, people, smartphone, epayment, VNeID).
type Row = (i64, String, Option<i64>, i64, i64, i64, i64, i64, i64);

fn figures(rows: Vec<Row>) -> Vec<GroupFigures> {
    rows.into_iter()
        .map(|(id, name, expected, approved, pending, people, smartphone, epayment, vneid)| GroupFigures {
            id,
            name,
            expected,
            approved,
            pending,
            people,
            smartphone,
            epayment,
            vneid,
        })
        .collect()
}

/// Each group's households: approved and their digital indicators
/// (`group_digital_totals`), pending and people (`group_household_totals`).
pub async fn households(conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<Vec<GroupFigures>> {
    let scope = scope_json(scope)?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT g.id, g.name, g.expected_households, COALESCE(d.households, 0), COALESCE(t.pending, 0),
                COALESCE(t.people, 0), COALESCE(d.smartphone, 0), COALESCE(d.epayment, 0), COALESCE(d.vneid, 0)
         FROM groups g LEFT JOIN group_digital_totals d ON d.group_id = g.id
         LEFT JOIN group_household_totals t ON t.group_id = g.id
         WHERE ?1 IS NULL OR g.id IN (SELECT value FROM json_each(?1))
         ORDER BY g.id",
    )
    .bind(&scope)
    .fetch_all(conn)
    .await?;
    Ok(figures(rows))
}

/// (circumstance code, approved households in it), by code; none shown at 0.
pub async fn circumstances(conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<Vec<(String, i64)>> {
    let scope = scope_json(scope)?;
    Ok(sqlx::query_as(
        "SELECT circumstance, SUM(households) FROM group_circumstance_totals
         WHERE ?1 IS NULL OR group_id IN (SELECT value FROM json_each(?1))
         GROUP BY circumstance HAVING SUM(households) > 0 ORDER BY circumstance",
    )
    .bind(&scope)
    .fetch_all(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::digital::{self, Indicators, Source};
    use crate::domain::{PersonName, PhoneNumber};
    use crate::household::{repo, Circumstance, HouseholdDetails, Status};

    /// Each group's figures counted from scratch over every household (the
    /// queries `/thongke` ran before the totals).
    async fn households_from_scratch(conn: &mut SqliteConnection, scope: &Scope) -> Vec<GroupFigures> {
        let scope = scope_json(scope).unwrap();
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT g.id, g.name, g.expected_households,
                    COUNT(CASE WHEN h.status = 'approved' THEN 1 END),
                    COUNT(CASE WHEN h.status = 'pending' THEN 1 END),
                    COALESCE(SUM(CASE WHEN h.status = 'approved' THEN h.members END), 0),
                    COUNT(CASE WHEN h.status = 'approved' AND h.smartphone_users > 0 THEN 1 END),
                    COUNT(CASE WHEN h.status = 'approved' AND h.has_epayment = 1 THEN 1 END),
                    COUNT(CASE WHEN h.status = 'approved' AND h.vneid_level2 > 0 THEN 1 END)
             FROM groups g LEFT JOIN households h ON h.group_id = g.id
             WHERE ?1 IS NULL OR g.id IN (SELECT value FROM json_each(?1))
             GROUP BY g.id ORDER BY g.id",
        )
        .bind(&scope)
        .fetch_all(conn)
        .await
        .unwrap();
        figures(rows)
    }

    async fn circumstances_from_scratch(conn: &mut SqliteConnection, scope: &Scope) -> Vec<(String, i64)> {
        let scope = scope_json(scope).unwrap();
        sqlx::query_as(
            "SELECT c.circumstance, COUNT(*) FROM household_circumstances c JOIN households h ON h.id = c.household_id
             WHERE h.status = 'approved' AND (?1 IS NULL OR h.group_id IN (SELECT value FROM json_each(?1)))
             GROUP BY c.circumstance ORDER BY c.circumstance",
        )
        .bind(&scope)
        .fetch_all(conn)
        .await
        .unwrap()
    }

    fn details(members: u32, smart: u32, epay: bool, vneid: u32, circumstances: &[Circumstance]) -> HouseholdDetails {
        HouseholdDetails {
            head_name: PersonName::parse("Nguyễn Văn An").unwrap(),
            house_number: "12".into(),
            lane: None,
            street: "Xuân La".into(),
            phone: PhoneNumber::parse("0912345678").unwrap(),
            members,
            circumstances: circumstances.to_vec(),
            smartphone_users: smart,
            has_epayment: epay,
            vneid_level2: vneid,
        }
    }

    async fn visit(conn: &mut SqliteConnection, household: i64, group: i64, now: DateTime<Utc>) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO visits (household_id, group_id, by_user_id, visited_on, outcome, recorded_at)
             VALUES (?, ?, 1, '2026-12-01', 'helped', ?) RETURNING id",
        )
        .bind(household)
        .bind(group)
        .bind(now)
        .fetch_one(conn)
        .await
        .unwrap()
    }

    /// The totals `/thongke` reads (households, pending, people, digital
    /// indicators, circumstances) agree with a count from scratch, for the
    /// ward and for each group, after every kind of write: registering,
    /// approving, rejecting, a pending record filled in anew, an approved
    /// household's update (members, circumstances, indicators), a visit and
    /// a resident's own figures moving indicators, a move to another group
    /// and a removal.
    #[tokio::test]
    async fn the_household_totals_agree_with_a_count_from_scratch() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&dir.path().join("t.db"), Default::default()).await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 3, 0, 0).unwrap();
        let mut tx = db.write().await.unwrap();
        for name in ["Tổ 1", "Tổ 2", "Tổ 3"] {
            sqlx::query("INSERT INTO groups (name, name_folded, created_at) VALUES (?, ?, ?)")
                .bind(name)
                .bind(crate::text::fold(name))
                .bind(now)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        sqlx::query(
            "INSERT INTO users (channel, external_id, display_name, created_at) VALUES ('telegram', '1', 'A', ?)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        use Circumstance::*;
        let mut step = 0;
        macro_rules! check {
            ($what:expr) => {
                step += 1;
                for scope in [None, Some(vec![1]), Some(vec![2]), Some(vec![3]), Some(vec![1, 2])] {
                    assert_eq!(
                        households(&mut tx, &scope).await.unwrap(),
                        households_from_scratch(&mut tx, &scope).await,
                        "households, scope {scope:?}, after write {step}: {}",
                        $what
                    );
                    assert_eq!(
                        circumstances(&mut tx, &scope).await.unwrap(),
                        circumstances_from_scratch(&mut tx, &scope).await,
                        "circumstances, scope {scope:?}, after write {step}: {}",
                        $what
                    );
                }
            };
        }
        check!("nothing yet");
        let a = repo::insert(&mut tx, 1, 1, &details(4, 1, false, 0, &[Poor, Policy]), now).await.unwrap();
        let b = repo::insert(&mut tx, 1, 1, &details(3, 0, true, 1, &[NearPoor]), now).await.unwrap();
        let c = repo::insert(&mut tx, 2, 1, &details(2, 2, true, 2, &[Disability, LonelyElderly]), now).await.unwrap();
        let d = repo::insert(&mut tx, 2, 1, &details(5, 0, false, 0, &[]), now).await.unwrap();
        check!("registered, pending");
        repo::replace_details(&mut tx, b, &details(6, 1, true, 1, &[Poor]), Status::Pending, 1, now).await.unwrap();
        check!("a pending record filled in anew");
        assert!(repo::decide(&mut tx, a, Status::Approved, 1, now).await.unwrap());
        assert!(repo::decide(&mut tx, b, Status::Approved, 1, now).await.unwrap());
        assert!(repo::decide(&mut tx, c, Status::Approved, 1, now).await.unwrap());
        check!("approved");
        assert!(repo::decide(&mut tx, d, Status::Rejected, 1, now).await.unwrap());
        check!("rejected");
        repo::replace_details(&mut tx, a, &details(7, 2, true, 1, &[NearPoor, Disability]), Status::Approved, 1, now)
            .await
            .unwrap();
        check!("an approved household's update: members, circumstances, indicators");
        repo::replace_details(&mut tx, c, &details(2, 2, true, 2, &[]), Status::Approved, 1, now).await.unwrap();
        check!("an approved household's circumstances all taken off");
        let v = visit(&mut tx, b, 1, now).await;
        let to =
            Indicators { smartphone_users: 3, has_epayment: true, vneid_level2: 3, ward_app: true, joined_group: true };
        digital::change(&mut tx, b, to, 1, Source::Visit(v), now).await.unwrap();
        check!("a visit raising indicators");
        let to = Indicators {
            smartphone_users: 0,
            has_epayment: false,
            vneid_level2: 0,
            ward_app: false,
            joined_group: false,
        };
        digital::change(&mut tx, c, to, 1, Source::Resident, now).await.unwrap();
        check!("a resident's own figures lowering indicators");
        let e = repo::insert(&mut tx, 3, 1, &details(1, 0, false, 0, &[Poor]), now).await.unwrap();
        check!("registered in a third group");
        for (write, id) in [
            // A circumstance written alone: given, changed, taken.
            ("INSERT INTO household_circumstances (household_id, circumstance) VALUES (?, 'policy')", c),
            ("UPDATE household_circumstances SET circumstance = 'poor' WHERE household_id = ?", c),
            ("DELETE FROM household_circumstances WHERE household_id = ? AND circumstance = 'near_poor'", a),
            // Moved to another group, approved and pending; removed.
            ("UPDATE households SET group_id = 3 WHERE id = ?", a),
            ("UPDATE households SET group_id = 1 WHERE id = ?", e),
            ("DELETE FROM households WHERE id = ?", b),
            ("DELETE FROM households WHERE id = ?", e),
        ] {
            sqlx::query(write).bind(id).execute(&mut *tx).await.unwrap();
            check!(write);
        }
        tx.commit().await.unwrap();
    }
}
