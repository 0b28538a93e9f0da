-- A message that comes on its own (a notice's "Đã xem") no longer replaces
-- the options of the question a Zalo resident is answering: its options are
-- kept beside them, and a typed number picks them only when no question is
-- in hand (see src/zalo/menu.rs).
ALTER TABLE zalo_menus ADD COLUMN aside TEXT;
