-- Each group's digital figures as running totals, so that /tiendo for a
-- whole ward reads one row per group instead of walking every household
-- (issue 23: under 50 ms at 30,000 households). Kept by triggers, in the
-- database, so that no way of writing a household, its baseline or a visit
-- can forget them; `digital::progress` tests them against a count from
-- scratch. Only approved households count.
CREATE TABLE group_digital_totals (
    group_id        INTEGER PRIMARY KEY REFERENCES groups (id),
    households      INTEGER NOT NULL DEFAULT 0,
    smartphone      INTEGER NOT NULL DEFAULT 0,
    epayment        INTEGER NOT NULL DEFAULT 0,
    vneid           INTEGER NOT NULL DEFAULT 0,
    smartphone_base INTEGER NOT NULL DEFAULT 0,
    epayment_base   INTEGER NOT NULL DEFAULT 0,
    vneid_base      INTEGER NOT NULL DEFAULT 0,
    -- Approved households visited at least once.
    visited         INTEGER NOT NULL DEFAULT 0
);

INSERT INTO group_digital_totals
    SELECT h.group_id, COUNT(*), SUM(h.smartphone_users > 0), SUM(h.has_epayment), SUM(h.vneid_level2 > 0),
           SUM(COALESCE(b.smartphone_users, h.smartphone_users) > 0), SUM(COALESCE(b.has_epayment, h.has_epayment)),
           SUM(COALESCE(b.vneid_level2, h.vneid_level2) > 0),
           SUM(EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id))
    FROM households h LEFT JOIN household_baselines b ON b.household_id = h.id
    WHERE h.status = 'approved' GROUP BY h.group_id;

-- A household inserted approved: its baseline is what it was inserted with.
CREATE TRIGGER group_totals_household_insert AFTER INSERT ON households WHEN NEW.status = 'approved' BEGIN
    INSERT INTO group_digital_totals (group_id) VALUES (NEW.group_id) ON CONFLICT DO NOTHING;
    UPDATE group_digital_totals SET
        households = households + 1,
        smartphone = smartphone + (NEW.smartphone_users > 0),
        epayment = epayment + NEW.has_epayment,
        vneid = vneid + (NEW.vneid_level2 > 0),
        smartphone_base = smartphone_base + (NEW.smartphone_users > 0),
        epayment_base = epayment_base + NEW.has_epayment,
        vneid_base = vneid_base + (NEW.vneid_level2 > 0)
    WHERE group_id = NEW.group_id;
END;

-- Approved, moved, changed or no longer approved: the old share out, the
-- new share in.
CREATE TRIGGER group_totals_household_update
AFTER UPDATE OF status, group_id, smartphone_users, has_epayment, vneid_level2 ON households BEGIN
    UPDATE group_digital_totals SET
        households = households - 1,
        smartphone = smartphone - (OLD.smartphone_users > 0),
        epayment = epayment - OLD.has_epayment,
        vneid = vneid - (OLD.vneid_level2 > 0),
        smartphone_base = smartphone_base
            - COALESCE((SELECT b.smartphone_users > 0 FROM household_baselines b WHERE b.household_id = OLD.id),
                       OLD.smartphone_users > 0),
        epayment_base = epayment_base
            - COALESCE((SELECT b.has_epayment FROM household_baselines b WHERE b.household_id = OLD.id), OLD.has_epayment),
        vneid_base = vneid_base
            - COALESCE((SELECT b.vneid_level2 > 0 FROM household_baselines b WHERE b.household_id = OLD.id),
                       OLD.vneid_level2 > 0),
        visited = visited - EXISTS (SELECT 1 FROM visits v WHERE v.household_id = OLD.id)
    WHERE group_id = OLD.group_id AND OLD.status = 'approved';
    INSERT INTO group_digital_totals (group_id) SELECT NEW.group_id WHERE NEW.status = 'approved'
        ON CONFLICT DO NOTHING;
    UPDATE group_digital_totals SET
        households = households + 1,
        smartphone = smartphone + (NEW.smartphone_users > 0),
        epayment = epayment + NEW.has_epayment,
        vneid = vneid + (NEW.vneid_level2 > 0),
        smartphone_base = smartphone_base
            + COALESCE((SELECT b.smartphone_users > 0 FROM household_baselines b WHERE b.household_id = NEW.id),
                       NEW.smartphone_users > 0),
        epayment_base = epayment_base
            + COALESCE((SELECT b.has_epayment FROM household_baselines b WHERE b.household_id = NEW.id), NEW.has_epayment),
        vneid_base = vneid_base
            + COALESCE((SELECT b.vneid_level2 > 0 FROM household_baselines b WHERE b.household_id = NEW.id),
                       NEW.vneid_level2 > 0),
        visited = visited + EXISTS (SELECT 1 FROM visits v WHERE v.household_id = NEW.id)
    WHERE group_id = NEW.group_id AND NEW.status = 'approved';
END;

-- Before: the baseline and the visits, which go with the household, are
-- still there to be counted out.
CREATE TRIGGER group_totals_household_delete BEFORE DELETE ON households WHEN OLD.status = 'approved' BEGIN
    UPDATE group_digital_totals SET
        households = households - 1,
        smartphone = smartphone - (OLD.smartphone_users > 0),
        epayment = epayment - OLD.has_epayment,
        vneid = vneid - (OLD.vneid_level2 > 0),
        smartphone_base = smartphone_base
            - COALESCE((SELECT b.smartphone_users > 0 FROM household_baselines b WHERE b.household_id = OLD.id),
                       OLD.smartphone_users > 0),
        epayment_base = epayment_base
            - COALESCE((SELECT b.has_epayment FROM household_baselines b WHERE b.household_id = OLD.id), OLD.has_epayment),
        vneid_base = vneid_base
            - COALESCE((SELECT b.vneid_level2 > 0 FROM household_baselines b WHERE b.household_id = OLD.id),
                       OLD.vneid_level2 > 0),
        visited = visited - EXISTS (SELECT 1 FROM visits v WHERE v.household_id = OLD.id)
    WHERE group_id = OLD.group_id;
END;

-- A baseline given again (a registration filled in anew) of an approved
-- household.
CREATE TRIGGER group_totals_baseline_update AFTER UPDATE ON household_baselines BEGIN
    UPDATE group_digital_totals SET
        smartphone_base = smartphone_base - (OLD.smartphone_users > 0) + (NEW.smartphone_users > 0),
        epayment_base = epayment_base - OLD.has_epayment + NEW.has_epayment,
        vneid_base = vneid_base - (OLD.vneid_level2 > 0) + (NEW.vneid_level2 > 0)
    WHERE group_id = (SELECT h.group_id FROM households h WHERE h.id = NEW.household_id AND h.status = 'approved');
END;

-- An approved household's first visit.
CREATE TRIGGER group_totals_first_visit AFTER INSERT ON visits
WHEN NOT EXISTS (SELECT 1 FROM visits v WHERE v.household_id = NEW.household_id AND v.id <> NEW.id) BEGIN
    UPDATE group_digital_totals SET visited = visited + 1
    WHERE group_id = (SELECT h.group_id FROM households h WHERE h.id = NEW.household_id AND h.status = 'approved');
END;

-- An approved household's last visit gone.
CREATE TRIGGER group_totals_last_visit_gone AFTER DELETE ON visits
WHEN NOT EXISTS (SELECT 1 FROM visits v WHERE v.household_id = OLD.household_id) BEGIN
    UPDATE group_digital_totals SET visited = visited - 1
    WHERE group_id = (SELECT h.group_id FROM households h WHERE h.id = OLD.household_id AND h.status = 'approved');
END;

-- What /tiendo reads of a period without touching the rows: the rises
-- (by their time) and the visits (by their day).
CREATE INDEX indicator_events_rises ON indicator_events (at, household_id, visit_id, before, after);
CREATE INDEX visits_by_day ON visits (visited_on, group_id, team_id);
