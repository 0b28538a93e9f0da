-- What /thongke reads of each group's households, as running totals
-- (issue 34: the ward at 1,000,000 households under 300 ms). With
-- group_digital_totals (migration 0022: approved households and their
-- digital indicators) the ward reads one row per group and one per group
-- and circumstance instead of walking every household. Kept by triggers
-- on `households` and `household_circumstances` (written by registration,
-- review, a household's update and a visit, never on every update), so
-- that no way of writing them can forget the totals; `stats::totals`
-- tests them against a count from scratch after every kind of write.

-- Households waiting for review, and the people (members, nhân khẩu) of
-- the approved ones.
CREATE TABLE group_household_totals (
    group_id INTEGER PRIMARY KEY REFERENCES groups (id),
    pending  INTEGER NOT NULL DEFAULT 0,
    people   INTEGER NOT NULL DEFAULT 0
);

-- Approved households in each circumstance (poor, near-poor, policy, ...).
CREATE TABLE group_circumstance_totals (
    group_id     INTEGER NOT NULL REFERENCES groups (id),
    circumstance TEXT NOT NULL,
    households   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, circumstance)
);

INSERT INTO group_household_totals (group_id, pending, people)
    SELECT group_id, COUNT(CASE WHEN status = 'pending' THEN 1 END),
           COALESCE(SUM(CASE WHEN status = 'approved' THEN members END), 0)
    FROM households GROUP BY group_id;

INSERT INTO group_circumstance_totals (group_id, circumstance, households)
    SELECT h.group_id, c.circumstance, COUNT(*)
    FROM household_circumstances c JOIN households h ON h.id = c.household_id
    WHERE h.status = 'approved' GROUP BY h.group_id, c.circumstance;

-- A household's circumstances are written after the household itself, so
-- a new one brings only its status and members.
CREATE TRIGGER group_household_totals_insert AFTER INSERT ON households BEGIN
    INSERT INTO group_household_totals (group_id, pending, people)
        VALUES (NEW.group_id, NEW.status = 'pending', CASE WHEN NEW.status = 'approved' THEN NEW.members ELSE 0 END)
        ON CONFLICT (group_id) DO UPDATE SET pending = pending + excluded.pending, people = people + excluded.people;
END;

-- Approved, rejected, moved or its members changed: the old share out,
-- the new share in (circumstances included, which count only while the
-- household is approved).
CREATE TRIGGER group_household_totals_update AFTER UPDATE OF status, group_id, members ON households BEGIN
    UPDATE group_household_totals SET
        pending = pending - (OLD.status = 'pending'),
        people = people - CASE WHEN OLD.status = 'approved' THEN OLD.members ELSE 0 END
    WHERE group_id = OLD.group_id;
    INSERT INTO group_household_totals (group_id, pending, people)
        VALUES (NEW.group_id, NEW.status = 'pending', CASE WHEN NEW.status = 'approved' THEN NEW.members ELSE 0 END)
        ON CONFLICT (group_id) DO UPDATE SET pending = pending + excluded.pending, people = people + excluded.people;
    UPDATE group_circumstance_totals SET households = households - 1
    WHERE OLD.status = 'approved' AND group_id = OLD.group_id
      AND circumstance IN (SELECT c.circumstance FROM household_circumstances c WHERE c.household_id = OLD.id);
    INSERT INTO group_circumstance_totals (group_id, circumstance, households)
        SELECT NEW.group_id, c.circumstance, 1 FROM household_circumstances c
        WHERE c.household_id = NEW.id AND NEW.status = 'approved'
        ON CONFLICT (group_id, circumstance) DO UPDATE SET households = households + 1;
END;

-- Before: its circumstances are still there to be counted out. (The
-- cascade that removes them afterwards finds no household to count for.)
CREATE TRIGGER group_household_totals_delete BEFORE DELETE ON households BEGIN
    UPDATE group_household_totals SET
        pending = pending - (OLD.status = 'pending'),
        people = people - CASE WHEN OLD.status = 'approved' THEN OLD.members ELSE 0 END
    WHERE group_id = OLD.group_id;
    UPDATE group_circumstance_totals SET households = households - 1
    WHERE OLD.status = 'approved' AND group_id = OLD.group_id
      AND circumstance IN (SELECT c.circumstance FROM household_circumstances c WHERE c.household_id = OLD.id);
END;

-- A circumstance given to or taken from an approved household.
CREATE TRIGGER group_circumstance_totals_insert AFTER INSERT ON household_circumstances BEGIN
    INSERT INTO group_circumstance_totals (group_id, circumstance, households)
        SELECT h.group_id, NEW.circumstance, 1 FROM households h
        WHERE h.id = NEW.household_id AND h.status = 'approved'
        ON CONFLICT (group_id, circumstance) DO UPDATE SET households = households + 1;
END;

CREATE TRIGGER group_circumstance_totals_delete AFTER DELETE ON household_circumstances BEGIN
    UPDATE group_circumstance_totals SET households = households - 1
    WHERE circumstance = OLD.circumstance
      AND group_id = (SELECT h.group_id FROM households h WHERE h.id = OLD.household_id AND h.status = 'approved');
END;

CREATE TRIGGER group_circumstance_totals_update AFTER UPDATE ON household_circumstances BEGIN
    UPDATE group_circumstance_totals SET households = households - 1
    WHERE circumstance = OLD.circumstance
      AND group_id = (SELECT h.group_id FROM households h WHERE h.id = OLD.household_id AND h.status = 'approved');
    INSERT INTO group_circumstance_totals (group_id, circumstance, households)
        SELECT h.group_id, NEW.circumstance, 1 FROM households h
        WHERE h.id = NEW.household_id AND h.status = 'approved'
        ON CONFLICT (group_id, circumstance) DO UPDATE SET households = households + 1;
END;

-- The ward's open reports by category, read from the index alone (the
-- scope's group and the deadline's created_at with them): 80 ms at 100,000
-- reports walking the table, 14 ms from the index.
CREATE INDEX reports_open ON reports (status, category, group_id, created_at);
