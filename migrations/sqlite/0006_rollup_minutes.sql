-- How much of each hour and day had check results: the number of distinct minutes with at
-- least one result. A minute row is inserted once (later results in that minute update it),
-- so a trigger on its insert counts it into its hour and day (two statements, so each is
-- one primary-key lookup). Rows from before this migration keep 0: their coverage is not
-- known.
ALTER TABLE check_rollups ADD COLUMN minutes INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER check_rollups_count_minutes AFTER INSERT ON check_rollups
WHEN NEW.span = 'minute'
BEGIN
    UPDATE check_rollups SET minutes = minutes + 1
    WHERE component = NEW.component AND span = 'hour' AND start_ms = NEW.start_ms - NEW.start_ms % 3600000;
    UPDATE check_rollups SET minutes = minutes + 1
    WHERE component = NEW.component AND span = 'day' AND start_ms = NEW.start_ms - NEW.start_ms % 86400000;
END;
