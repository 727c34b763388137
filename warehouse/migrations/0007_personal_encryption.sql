-- Personal-field encryption, analyst views, and staging for review and comparison
-- (pipelines/cleaning). {db} is replaced with the quoted database name. Statements are separated
-- by ";" at a line end. Every statement must run on ClickHouse 18.16 and on current ClickHouse
-- (ARCHITECTURE.md).

-- Rows the cleaning pipeline cleaned but must not load into dwd_<dataset> directly (see
-- pipelines/cleaning/doc.go for the routing), read by warehouse/review:
--   purpose 'change':    a department's row of a reviewed dataset (person_house: move-in,
--                        move-out), a change request the community approves or rejects;
--   purpose 'reference': any row of a reference source, compared with dwd, never loaded.
-- request_id is the hex HMAC-SHA256 (the clean hash key) of dataset, source, batch_id and row_no
-- (each followed by a zero byte): stable when a batch is re-read, so a re-read collapses on merge.
-- identity_key is what dwd_<dataset>.identity_key would be; region_code the row's community code.
-- row is a JSON object: dwd column name -> the value the dwd row would hold, as a string (minus
-- received_at and version): quality_flags a JSON array of strings, Date as YYYY-MM-DD, DateTime as
-- "YYYY-MM-DD HH:MM:SS" in China Standard Time, UInt8 as "1"/"0", NULL as null. Personal fields
-- are there only as their *_hash, *_masked and *_enc values, as in dwd. version is the receive
-- time in Unix ms. Not for analysts. Readers use FINAL.
CREATE TABLE IF NOT EXISTS {db}.ods_staged_rows (
    purpose      String,
    dataset      String,
    request_id   String,
    identity_key String,
    region_code  String,
    source       String,
    batch_id     String,
    row_no       UInt64,
    row          String,
    received_at  DateTime,
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (purpose, dataset, request_id);

-- Analyst views: each dwd_ table's current rows (FINAL, one row per identity) with every column
-- but the encrypted *_enc ones. The keyed *_hash columns stay, for joins; the *_masked columns
-- are what analysts see of personal values. Analysts are given these views, not the tables.

CREATE VIEW IF NOT EXISTS {db}.v_dwd_person AS SELECT
    identity_key, id_card_hash, id_card_masked, name, gender, birth_date, ethnicity,
    marital_status, mobile_hash, mobile_masked, residence_status, region_code, city_code,
    district_code, street_code, community_code, address, hukou_address, registered_at, source,
    batch_id, row_no, quality_flags, received_at, version
FROM {db}.dwd_person FINAL;

CREATE VIEW IF NOT EXISTS {db}.v_dwd_house AS SELECT
    identity_key, region_code, city_code, district_code, street_code, community_code, address,
    house_no, compound, building, unit, floor, room, use, status, area, owner_id_card_hash,
    owner_id_card_masked, built_year, source, batch_id, row_no, quality_flags, received_at, version
FROM {db}.dwd_house FINAL;

CREATE VIEW IF NOT EXISTS {db}.v_dwd_person_house AS SELECT
    identity_key, id_card_hash, id_card_masked, region_code, city_code, district_code, street_code,
    community_code, address, relation, is_householder, move_in_date, move_out_date, source,
    batch_id, row_no, quality_flags, received_at, version
FROM {db}.dwd_person_house FINAL;

CREATE VIEW IF NOT EXISTS {db}.v_dwd_org AS SELECT
    identity_key, uscc, name, org_type, status, region_code, city_code, district_code, street_code,
    community_code, address, legal_person_hash, legal_person_masked, contact_mobile_hash,
    contact_mobile_masked, established_date, employees, industry, source, batch_id, row_no,
    quality_flags, received_at, version
FROM {db}.dwd_org FINAL;

CREATE VIEW IF NOT EXISTS {db}.v_dwd_facility AS SELECT
    identity_key, facility_id, name, category, status, region_code, city_code, district_code,
    street_code, community_code, address, longitude, latitude, installed_date, manager_uscc,
    checked_at, source, batch_id, row_no, quality_flags, received_at, version
FROM {db}.dwd_facility FINAL;

CREATE VIEW IF NOT EXISTS {db}.v_dwd_opinion AS SELECT
    identity_key, opinion_id, region_code, city_code, district_code, street_code, community_code,
    category, channel, title, content, submitter_mobile_hash, submitter_mobile_masked,
    submitted_at, status, closed_at, satisfaction, source, batch_id, row_no, quality_flags,
    received_at, version
FROM {db}.dwd_opinion FINAL;

CREATE VIEW IF NOT EXISTS {db}.v_dwd_activity AS SELECT
    identity_key, activity_id, title, category, region_code, city_code, district_code, street_code,
    community_code, organizer, status, start_at, end_at, capacity, signups, participants, source,
    batch_id, row_no, quality_flags, received_at, version
FROM {db}.dwd_activity FINAL;

CREATE VIEW IF NOT EXISTS {db}.v_dwd_space_booking AS SELECT
    identity_key, booking_id, space_id, space_name, space_type, region_code, city_code,
    district_code, street_code, community_code, booker_mobile_hash, booker_mobile_masked, start_at,
    end_at, attendees, status, booked_at, source, batch_id, row_no, quality_flags, received_at,
    version
FROM {db}.dwd_space_booking FINAL;

CREATE VIEW IF NOT EXISTS {db}.v_dwd_survey AS SELECT
    identity_key, response_id, survey_id, survey_title, category, region_code, city_code,
    district_code, street_code, community_code, respondent_mobile_hash, respondent_mobile_masked,
    submitted_at, completed, answered, satisfaction, source, batch_id, row_no, quality_flags,
    received_at, version
FROM {db}.dwd_survey FINAL;

-- The encrypted forms of dwd_person's and dwd_house's personal fields (the tables of 0006 have
-- theirs from the start). Rows cleaned before this migration have '' until a source re-sends
-- them. 18.16 has no ADD COLUMN IF NOT EXISTS, so these statements are the last of the file: a
-- run that failed before them is retried whole without harm.
ALTER TABLE {db}.dwd_person
    ADD COLUMN id_card_enc String AFTER id_card_masked,
    ADD COLUMN mobile_enc String AFTER mobile_masked;

ALTER TABLE {db}.dwd_house
    ADD COLUMN owner_id_card_enc String AFTER owner_id_card_masked;
