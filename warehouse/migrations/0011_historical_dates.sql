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

-- Current ClickHouse fixes a view's column types when the view is created: recreate the analyst
-- views over the changed columns (same definitions as 0007).
DROP TABLE IF EXISTS {db}.v_dwd_person;
CREATE VIEW IF NOT EXISTS {db}.v_dwd_person AS SELECT
    identity_key, id_card_hash, id_card_masked, name, gender, birth_date, ethnicity,
    marital_status, mobile_hash, mobile_masked, residence_status, region_code, city_code,
    district_code, street_code, community_code, address, hukou_address, registered_at, source,
    batch_id, row_no, quality_flags, received_at, version
FROM {db}.dwd_person FINAL;

DROP TABLE IF EXISTS {db}.v_dwd_person_house;
CREATE VIEW IF NOT EXISTS {db}.v_dwd_person_house AS SELECT
    identity_key, id_card_hash, id_card_masked, region_code, city_code, district_code, street_code,
    community_code, address, relation, is_householder, move_in_date, move_out_date, source,
    batch_id, row_no, quality_flags, received_at, version
FROM {db}.dwd_person_house FINAL;

DROP TABLE IF EXISTS {db}.v_dwd_org;
CREATE VIEW IF NOT EXISTS {db}.v_dwd_org AS SELECT
    identity_key, uscc, name, org_type, status, region_code, city_code, district_code, street_code,
    community_code, address, legal_person_hash, legal_person_masked, contact_mobile_hash,
    contact_mobile_masked, established_date, employees, industry, source, batch_id, row_no,
    quality_flags, received_at, version
FROM {db}.dwd_org FINAL;

DROP TABLE IF EXISTS {db}.v_dwd_facility;
CREATE VIEW IF NOT EXISTS {db}.v_dwd_facility AS SELECT
    identity_key, facility_id, name, category, status, region_code, city_code, district_code,
    street_code, community_code, address, longitude, latitude, installed_date, manager_uscc,
    checked_at, source, batch_id, row_no, quality_flags, received_at, version
FROM {db}.dwd_facility FINAL;
