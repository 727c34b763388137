-- Dates of community data as "YYYY-MM-DD" text. {db} is replaced with the quoted database name.
-- Statements are separated by ";" at a line end. Every statement must run on ClickHouse 18.16
-- and on current ClickHouse (ARCHITECTURE.md).
--
-- A Date of ClickHouse 18.16 covers 1970-01-01 … 2105 (Date32 does not exist there), so birth
-- dates, organisations' founding dates and move-in dates before 1970 were wrapped into that
-- range when written. They are stored as their text instead, which sorts and compares like the
-- date (toDate(birth_date) still works for dates from 1970 on). Rows written before this
-- migration keep what they had: re-send their batches to correct them.
ALTER TABLE {db}.dwd_person MODIFY COLUMN birth_date String;
ALTER TABLE {db}.dwd_person_house MODIFY COLUMN move_in_date Nullable(String);
ALTER TABLE {db}.dwd_person_house MODIFY COLUMN move_out_date Nullable(String);
ALTER TABLE {db}.dwd_org MODIFY COLUMN established_date Nullable(String);
ALTER TABLE {db}.dwd_facility MODIFY COLUMN installed_date Nullable(String);
