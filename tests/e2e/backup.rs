//! Backups: a copy taken while residents register is consistent, restores
//! into a working database, and the daily copy keeps only the newest ones.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Utc};
use todanpho::backup;

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_todanpho");

fn todanpho(config: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).arg("--config").arg(config).args(args).output().expect("run todanpho");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn a_backup_taken_while_residents_register_restores_to_a_working_database() {
    let bot = TestBot::start().await;
    bot.setup_group().await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("mid-load.db");
    let residents: Vec<User> =
        (0..6).map(|i| User { id: 310_000 + i, first_name: "Cư dân", last_name: None }).collect();

    let load = async {
        for r in &residents {
            crate::registration::register(&bot, r).await;
        }
    };
    let take = async {
        while bot.count("SELECT COUNT(*) FROM households").await < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        backup::backup(&bot.database, &copy).await.expect("backup while the bot writes")
    };
    let ((), made) = tokio::join!(load, take);
    assert_eq!(bot.count("SELECT COUNT(*) FROM households").await, 6);

    // One snapshot: between two and six households, each whole (a household
    // and its circumstances are written in one transaction).
    let in_copy = backup::check(&copy).await.expect("the copy passes its checks");
    assert_eq!(in_copy, made.households);
    assert!((2..=6).contains(&in_copy), "{in_copy}");
    let pool = crate::support::open_pool(&copy).await;
    let partial: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM households h WHERE NOT EXISTS
         (SELECT 1 FROM household_circumstances c WHERE c.household_id = h.id)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(partial, 0, "no household without the circumstances entered with it");
    pool.close().await;

    // Restored with the real binary into another ward's config, it serves.
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[ward]\nname = \"Phường Xuân La\"\n[database]\npath = \"restored.db\"\n[telegram]\n")
        .unwrap();
    let (ok, out) = todanpho(&config, &["restore", copy.to_str().unwrap()]);
    assert!(ok && out.contains("restored"), "{out}");
    let (ok, csv) = todanpho(&config, &["export", "households"]);
    assert!(ok, "{csv}");
    assert_eq!(csv.lines().filter(|l| !l.trim().is_empty()).count() as i64, in_copy + 1, "{csv}");

    // A file that is not a backup is refused and the database stays.
    let bad = dir.path().join("bad.db");
    std::fs::write(&bad, "không phải cơ sở dữ liệu").unwrap();
    let (ok, out) = todanpho(&config, &["restore", bad.to_str().unwrap()]);
    assert!(!ok && out.contains("cannot be restored"), "{out}");
    assert!(backup::check(&dir.path().join("restored.db")).await.is_ok());

    // `todanpho backup` on a live database; never over an existing file.
    let (ok, out) = todanpho(&config, &["backup", dir.path().join("cli.db").to_str().unwrap()]);
    assert!(ok && out.contains("integrity ok"), "{out}");
    let (ok, out) = todanpho(&config, &["backup", copy.to_str().unwrap()]);
    assert!(!ok && out.contains("already exists"), "{out}");
    bot.finish().await;
}

#[tokio::test]
async fn the_daily_backup_is_made_once_after_its_hour_and_old_ones_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let pool = todanpho::db::connect(&dir.path().join("bot.db"), Default::default()).await.unwrap();
    let folder = dir.path().join("backups");
    let settings = todanpho::config::Backup { dir: Some(folder.clone()), hour: 2, keep: 2 };
    let tz = chrono_tz::Asia::Ho_Chi_Minh;
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);

    // 01:30 on the 24th in Hà Nội: before the hour.
    assert!(backup::daily(&pool, &settings, tz, at("2026-11-23T18:30:00Z")).await.unwrap().is_none());
    let made = backup::daily(&pool, &settings, tz, at("2026-11-23T19:05:00Z")).await.unwrap().expect("due");
    assert!(made.path.ends_with("todanpho-2026-11-24.db"), "{}", made.path.display());
    assert!(backup::daily(&pool, &settings, tz, at("2026-11-23T23:00:00Z")).await.unwrap().is_none(), "once a day");
    for day in ["2026-11-24T20:00:00Z", "2026-11-25T20:00:00Z"] {
        assert!(backup::daily(&pool, &settings, tz, at(day)).await.unwrap().is_some());
    }
    let mut left: Vec<String> =
        std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["todanpho-2026-11-25.db", "todanpho-2026-11-26.db"]);
}
