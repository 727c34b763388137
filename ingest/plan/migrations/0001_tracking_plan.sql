-- Every applied tracking plan, one row per version. The active plan is the highest version;
-- rolling back means applying an old version's content again, which makes a new version.
CREATE TABLE tracking_plan_versions (
    version     BIGINT  NOT NULL PRIMARY KEY,
    sha256      TEXT    NOT NULL,  -- of plan_json, to tell an unchanged apply
    plan_json   TEXT    NOT NULL,  -- the canonical JSON (defaults filled in)
    source      TEXT    NOT NULL,  -- the file or body as applied (YAML keeps its comments); '' when applied from code
    applied_by  TEXT    NOT NULL,
    applied_at  BIGINT  NOT NULL,  -- Unix milliseconds
    event_count INTEGER NOT NULL
);
