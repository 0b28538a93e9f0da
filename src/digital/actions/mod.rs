//! The digital teams' ward actions, callable from any door (see
//! [`crate::action`]):
//!
//! - `team`: make a team, add or remove a member (officials);
//! - `visit`: record a visit to a household (its team's members, its
//!   group's leaders, officials);
//! - `own`: a resident records their own household's indicators.

pub mod own;
pub mod team;
pub mod visit;

#[cfg(test)]
mod tests {
    /// An approved household of `group`, owned by `owner`, at number `house`
    /// on Xuân La: `members` people, `vneid` of them with VNeID level 2, one
    /// smartphone user, no payment account.
    pub(crate) async fn household(
        ward: &crate::testing::Ward,
        owner: i64,
        house: &str,
        members: i64,
        vneid: i64,
    ) -> i64 {
        let mut tx = ward.tx().await;
        let id = sqlx::query_scalar(
            "INSERT INTO households (group_id, owner_user_id, head_name, head_name_folded, house_number, street, phone,
                members, smartphone_users, has_epayment, vneid_level2, status, created_at, updated_at)
             VALUES (?, ?, 'Nguyễn Văn Chủ', 'nguyen van chu', ?, 'Xuân La', '0912345678', ?, 1, 0, ?, 'approved', ?, ?)
             RETURNING id",
        )
        .bind(ward.group)
        .bind(owner)
        .bind(house)
        .bind(members)
        .bind(vneid)
        .bind(ward.now())
        .bind(ward.now())
        .fetch_one(&mut *tx)
        .await
        .expect("a household");
        tx.commit().await.expect("committed");
        id
    }
}
