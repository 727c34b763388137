-- Cleaning pipeline, second dataset: houses (dwd_house). {db} is replaced with the quoted
-- database name. Statements are separated by ";" at a line end. Every statement must run on
-- ClickHouse 18.16 and on current ClickHouse (ARCHITECTURE.md).

-- One row per house, whatever source reported it: identity_key is the keyed hash of the dataset
-- and the standard's identity fields (region_code, address), so a batch read twice or the same
-- house from two sources collapses on merge; the newest receive time (version, Unix ms) wins.
-- The owner's resident ID is never stored in clear: owner_id_card_hash for joins with dwd_person
-- (same key, same normalisation), owner_id_card_masked for analysts. Numbers a source may leave
-- out are Nullable. Readers use FINAL.
CREATE TABLE IF NOT EXISTS {db}.dwd_house (
    identity_key         String,
    region_code          String,
    city_code            String,
    district_code        String,
    street_code          String,
    community_code       String,
    address              String,
    house_no             String,
    compound             String,
    building             String,
    unit                 String,
    floor                Nullable(Int64),
    room                 String,
    use                  String,
    status               String,
    area                 Nullable(Float64),
    owner_id_card_hash   String,
    owner_id_card_masked String,
    built_year           Nullable(Int64),
    source               String,
    batch_id             String,
    row_no               UInt64,
    quality_flags        Array(String),
    received_at          DateTime,
    version              UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY identity_key;
