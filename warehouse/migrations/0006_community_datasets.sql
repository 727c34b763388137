-- Cleaning pipeline, the community datasets besides people and houses: person–house relations,
-- organisations, facilities, resident opinions, activities, public-space bookings and survey
-- responses (pipelines/cleaning Specs). {db} is replaced with the quoted database name.
-- Statements are separated by ";" at a line end. Every statement must run on ClickHouse 18.16 and
-- on current ClickHouse (ARCHITECTURE.md).
--
-- Common to every table here, as in dwd_person and dwd_house: identity_key is the keyed hash
-- (HMAC-SHA256, hex) of the dataset and the standard's identity fields, so a batch read twice or
-- the same entity from two sources collapses on merge; the newest receive time (version, Unix ms)
-- wins. No PARTITION BY: an entity must collapse whenever it was received. Region columns are the
-- community and its three parents. A personal field is never stored in clear: <field>_hash is the
-- keyed hash of the normalised value (resident IDs and mobiles hash by format, so they join across
-- tables), <field>_masked the form analysts see, <field>_enc the value encrypted with AES-GCM
-- ("<key id>:" + base64(nonce||ciphertext); see pipelines/cleaning). Values a source may leave
-- out are Nullable where an empty string would not say so (dates, numbers, yes/no). Yes/no fields
-- are UInt8 (18.16 has no Bool). quality_flags label what cleaning did. Readers use FINAL, or the
-- analyst views v_dwd_* (0007), which leave out the *_enc columns.

-- One row per person and house (identity: resident ID, community, house address): who lives in or
-- owns which house, with move-in and move-out dates (NULL while unknown / still living there).
-- Departments' rows are not loaded here directly: they are staged for the community's review
-- (ods_staged_rows, 0007).
CREATE TABLE IF NOT EXISTS {db}.dwd_person_house (
    identity_key   String,
    id_card_hash   String,
    id_card_masked String,
    id_card_enc    String,
    region_code    String,
    city_code      String,
    district_code  String,
    street_code    String,
    community_code String,
    address        String,
    relation       String,
    is_householder Nullable(UInt8),
    move_in_date   Nullable(Date),
    move_out_date  Nullable(Date),
    source         String,
    batch_id       String,
    row_no         UInt64,
    quality_flags  Array(String),
    received_at    DateTime,
    version        UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY identity_key;

-- One row per organisation (identity: unified social credit code, nationally unique). The legal
-- representative's name and the contact mobile are personal in the standard: hash, mask
-- (张** / 138****5678), encrypted.
CREATE TABLE IF NOT EXISTS {db}.dwd_org (
    identity_key          String,
    uscc                  String,
    name                  String,
    org_type              String,
    status                String,
    region_code           String,
    city_code             String,
    district_code         String,
    street_code           String,
    community_code        String,
    address               String,
    legal_person_hash     String,
    legal_person_masked   String,
    legal_person_enc      String,
    contact_mobile_hash   String,
    contact_mobile_masked String,
    contact_mobile_enc    String,
    established_date      Nullable(Date),
    employees             Nullable(Int64),
    industry              String,
    source                String,
    batch_id              String,
    row_no                UInt64,
    quality_flags         Array(String),
    received_at           DateTime,
    version               UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY identity_key;

-- One row per facility (identity: the source's facility_id).
CREATE TABLE IF NOT EXISTS {db}.dwd_facility (
    identity_key   String,
    facility_id    String,
    name           String,
    category       String,
    status         String,
    region_code    String,
    city_code      String,
    district_code  String,
    street_code    String,
    community_code String,
    address        String,
    longitude      Nullable(Float64),
    latitude       Nullable(Float64),
    installed_date Nullable(Date),
    manager_uscc   String,
    checked_at     Nullable(DateTime),
    source         String,
    batch_id       String,
    row_no         UInt64,
    quality_flags  Array(String),
    received_at    DateTime,
    version        UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY identity_key;

-- One row per resident opinion (identity: opinion_id); a later record of the same opinion (its
-- handling state, closing time, satisfaction) replaces the earlier.
CREATE TABLE IF NOT EXISTS {db}.dwd_opinion (
    identity_key            String,
    opinion_id              String,
    region_code             String,
    city_code               String,
    district_code           String,
    street_code             String,
    community_code          String,
    category                String,
    channel                 String,
    title                   String,
    content                 String,
    submitter_mobile_hash   String,
    submitter_mobile_masked String,
    submitter_mobile_enc    String,
    submitted_at            DateTime,
    status                  String,
    closed_at               Nullable(DateTime),
    satisfaction            Nullable(Int64),
    source                  String,
    batch_id                String,
    row_no                  UInt64,
    quality_flags           Array(String),
    received_at             DateTime,
    version                 UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY identity_key;

-- One row per community activity (identity: activity_id), with sign-ups and turnout as last
-- reported.
CREATE TABLE IF NOT EXISTS {db}.dwd_activity (
    identity_key   String,
    activity_id    String,
    title          String,
    category       String,
    region_code    String,
    city_code      String,
    district_code  String,
    street_code    String,
    community_code String,
    organizer      String,
    status         String,
    start_at       DateTime,
    end_at         Nullable(DateTime),
    capacity       Nullable(Int64),
    signups        Nullable(Int64),
    participants   Nullable(Int64),
    source         String,
    batch_id       String,
    row_no         UInt64,
    quality_flags  Array(String),
    received_at    DateTime,
    version        UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY identity_key;

-- One row per booking of a public space (identity: booking_id).
CREATE TABLE IF NOT EXISTS {db}.dwd_space_booking (
    identity_key         String,
    booking_id           String,
    space_id             String,
    space_name           String,
    space_type           String,
    region_code          String,
    city_code            String,
    district_code        String,
    street_code          String,
    community_code       String,
    booker_mobile_hash   String,
    booker_mobile_masked String,
    booker_mobile_enc    String,
    start_at             DateTime,
    end_at               DateTime,
    attendees            Nullable(Int64),
    status               String,
    booked_at            Nullable(DateTime),
    source               String,
    batch_id             String,
    row_no               UInt64,
    quality_flags        Array(String),
    received_at          DateTime,
    version              UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY identity_key;

-- One row per questionnaire response (identity: response_id); survey totals are aggregates of
-- these rows. completed is 1 for a complete response, 0 otherwise.
CREATE TABLE IF NOT EXISTS {db}.dwd_survey (
    identity_key             String,
    response_id              String,
    survey_id                String,
    survey_title             String,
    category                 String,
    region_code              String,
    city_code                String,
    district_code            String,
    street_code              String,
    community_code           String,
    respondent_mobile_hash   String,
    respondent_mobile_masked String,
    respondent_mobile_enc    String,
    submitted_at             DateTime,
    completed                UInt8,
    answered                 Nullable(Int64),
    satisfaction             Nullable(Int64),
    source                   String,
    batch_id                 String,
    row_no                   UInt64,
    quality_flags            Array(String),
    received_at              DateTime,
    version                  UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY identity_key;
