// Package community generates the community datasets of the data standard (warehouse/standard) for
// one city: people, houses and person–house relations (人员, 房屋, 人房关系) living in the city's real
// districts, streets and communities (warehouse/dimdata), as the feeds of a community office and of
// the public-security household register (公安户籍) would send them — with a configurable rate of
// planted defects, and the ground truth of every defect planted, so that the gateway, the cleaning
// pipeline and the quality scores have something true to find.
//
// Generate is seeded and reproducible: the same Config (seed, scale, rates, as-of date) always
// gives the same records in the same order, and WriteCSV/WriteJSONL then give the same bytes.
// Records are map[string]string keyed by the standard's field names (field order: Fields); the
// writers emit CSV (UTF-8, GBK or GB18030) or JSON lines, optionally renaming columns to a
// source's own names so field mapping is exercised.
//
// # Model
//
// The city's population (CityPopulation) divided by Config.Scale gives the number of people.
// Households (1–6 people: householder, spouse, children, parents, with consistent ages, surnames
// and genders) live in houses of residential compounds (小区) in a community chosen with
// log-normally varying sizes. Every person has a resident ID valid per GB 11643 (address code of
// their district for the registered population, of a real place elsewhere for migrants; birth
// date from the household's ages; sequence with the gender's parity; ISO 7064 check character), a
// common Chinese name, usually a mobile number, and addresses built from real district and street
// names. About ten percent of houses are vacant or commercial.
//
// # Sources
//
// SourceCommunity (社区采集) reports most people, every house and every relation, with codes as
// codes. SourcePolice (公安户籍) reports the rest of the people in its own style (labels instead of
// codes, YYYYMMDD dates, Chinese column names with DefaultRename).
//
// # Defects
//
// Each record gets at most one defect with probability Config.DefectRate, its kind drawn from those
// that fit the dataset (Kinds). Kinds the standard's validators detect (Kind.Detectable):
// KindIDChecksum, KindIDBirthDate, KindMobileFormat, KindMissingRequired, KindUnknownCode. Kinds
// that only the cleaning pipeline can detect: KindDuplicatePerson (the police source re-sends a
// community person with other formatting; Defect.Of names the original) and KindStaleAddress (a
// region code that is a real community, but not the one of the person's house). Independently, a
// field of a record is made dirty but valid with probability Config.DirtyRate (KindDirty:
// full-width digits, stray whitespace, +86 and dashes in phones): not a defect, the validators
// must clean it. Result.Defects lists all of them by Key (source, dataset, row).
//
// It holds the whole generated city in memory (fine up to a few million people) and does no I/O
// beyond the writers' io.Writer; it must not talk to the gateway, Kafka or ClickHouse.
package community
