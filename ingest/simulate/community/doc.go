// Package community simulates the departmental feeds and community data of one city for the
// nine datasets of the data standard (warehouse/standard): people, houses, person–house
// relations, organisations (主体), facilities, resident opinions (民意), activities, public-space
// bookings and questionnaire answers, in the city's real districts, streets and communities
// (warehouse/dimdata), at a scale factor of the real population — with a configurable rate of
// planted defects and the ground truth of every one, so that the gateway, the cleaning pipeline
// and the quality scores have something true to find. `citypulse simulate community` is Run.
//
// Generation is seeded and reproducible: the same Config (seed, scale, rates, as-of date) gives
// the same records in the same order. Generate returns them in memory (tests, small cities); Run
// streams the same records to files: one per source and dataset (CSV in UTF-8 or GBK, JSON lines),
// the source definitions `citypulse source add` takes (sources/<id>.json), the ground truth
// (ground_truth.jsonl, see Defect) and manifest.json, written last; optionally it then uploads
// every file to the feeds gateway (feeds.PushFile, signed per source).
//
// # Model
//
// The city's population (CityPopulation) divided by Config.Scale gives the number of people; the
// other datasets scale with it (about 0.18 organisations, 0.02 facilities and 0.015 activities
// per resident). Households (1–6 people with consistent ages, surnames and genders) live in
// houses of residential compounds in communities of log-normally varying size; 15% moved in from
// another house, whose closed relation person_house keeps. Resident IDs are valid per GB 11643
// and unique by construction; unified social credit codes per GB 32100 (with a GB 11714
// organisation code) and registered in the organisation's district. Opinions, bookings and
// questionnaire answers are made by residents with a mobile number and carry it and their
// community; bookings are of rooms of the resident's community service centre, which are
// facilities too (made for a community when first booked, so at high scale factors they are a
// large share of the facilities); facilities are managed by property companies of the district.
//
// # Sources
//
// Sources lists them: the community offices' collection tool (kind community: people, houses,
// relations, facilities, activities, bookings as CSV, questionnaire answers as JSON lines, all
// in the standard's names and forms), the police household register (department: people it alone
// knows plus duplicates, GBK CSV with Chinese columns, labels, YYYYMMDD dates), market regulation
// (department: organisations, GBK CSV with Chinese columns, labels, slashed dates) and the 12345
// hotline (department: opinions as JSON lines with its own keys and ISO 8601 times). Sources other
// than the community office therefore get code_mapped / dirty_fixed flags on every row by their
// style alone.
//
// # Defects
//
// Each record gets at most one defect with probability Config.DefectRate, its kind drawn from
// those the dataset's standard allows (Kinds: required fields, formats, code tables, dates), and
// independently one dirty but valid field with probability Config.DirtyRate (full-width digits,
// stray or ideographic spaces, +86 and dashes). The ground truth says what the pipeline must do:
// quarantine with the field's standard.FieldError code (and validator detail), fix and flag
// dirty_fixed, collapse a duplicate person (the police re-sends a community person with a spaced,
// 15-digit or lower-case-x ID) into its original, or report a stale address (a person's address is
// a house they moved out of, per person_house).
//
// # Memory
//
// Run holds the region data, each community's compounds, its service-centre rooms and
// questionnaires, the property companies by district, the ID allocator (two bytes per address
// code, birth day and gender: a few MB) and one row at a time; people, houses and rows are written
// as soon as they are made. Memory does not grow with the population (about 30 MB of heap at 1M
// people). Generate keeps every row and is limited to MaxInMemoryPeople.
//
// It does no I/O beyond its files and the optional upload; it must not talk to Kafka or
// ClickHouse, and it does not validate or clean (that is what it tests).
package community
