package standard

import (
	"bytes"
	"fmt"
	"strings"
)

// formatDocs describes each format and type rule for the generated documentation. A test checks
// that every format and type has an entry.
var formatDocs = []struct{ name, text string }{
	{FormatIDCard, "公民身份号码, GB 11643-1999: 18 characters; 6-digit address code with a known province (or a leading 9: foreigners' permanent residence ID); birth date that exists, not before 1890 and not after the batch date; 3-digit sequence (odd = male); ISO 7064 MOD 11-2 check character 0–9 or X (x accepted). 15-digit legacy numbers are upgraded to 18. Normalised: the 18 characters, upper-case X. Derives birth date and gender."},
	{FormatMobile, "手机号码: 11 digits, 1 then 3–9. Accepts +86 / 0086 / 86 prefixes, spaces, dashes, dots, parentheses and full-width digits. Normalised: the 11 digits."},
	{FormatUSCC, "统一社会信用代码, GB 32100-2015: 18 characters from 0–9 and A–Y without I, O, S, V, Z; characters 3–8 a 6-digit address code; MOD 31 check character. Normalised: upper-case."},
	{FormatRegionCode, "12-digit statistical division code that exists in the embedded region data (Chengdu 5101, Xuchang 4110), at the field's level when one is given. Shorter codes are rejected, not padded."},
	{FormatMultiline, "Free text that keeps line breaks (at most one blank line in a row)."},
	{TypeString, "Text: invalid UTF-8 rejected; full-width letters and digits folded to half-width (CJK and Chinese punctuation kept); whitespace runs become one space; control and format characters dropped; trimmed. max_length counts characters."},
	{TypeCode, "A code of the field's code table; the code, its label or an alias is accepted (Latin letters case-insensitive) and normalised to the code."},
	{TypeDate, "2024-03-05, 2024-3-5, 2024/03/05, 2024.03.05, 20240305, 2024年3月5日 (日 or 号 optional), optionally followed by a midnight time; years 1800–2199. Normalised: YYYY-MM-DD. Not accepted: two-digit years, day- or month-first orders, spreadsheet serial numbers."},
	{TypeDateTime, "A date as above, then a space or T and H:MM, HH:MM:SS or HH:MM:SS.fff, optionally a zone Z / ±HH:MM / ±HHMM / ±HH (converted); no zone means China time. Normalised: YYYY-MM-DD HH:MM:SS in China Standard Time (UTC+8)."},
	{TypeInt, "A whole number (thousands separators \",\" allowed), within min–max. Normalised: 64-bit integer."},
	{TypeDecimal, "A decimal number, within min–max. Normalised: 64-bit float."},
	{TypeBool, "1/0, true/false, t/f, yes/no, y/n, 是/否, 有/无. Normalised: true/false."},
}

var sensitivityDocs = []struct{ name, text string }{
	{Public, "公开: may be published and shown on public screens."},
	{Internal, "内部: for platform users, scoped to their own region."},
	{Sensitive, "敏感: need-to-know; exporting it needs a superior's approval."},
	{Personal, "个人信息: stored encrypted or masked; every access is logged; exports need approval."},
}

var errorCodeDocs = []struct{ name, text string }{
	{CodeRequired, "a required field is missing or empty after cleaning"},
	{CodeFormat, "fails its format or is not a valid date / date-time (Detail names the validator's reason: checksum, length, charset, prefix, date, future, unknown, level)"},
	{CodeCodeTable, "not a code, label or alias of the field's code table"},
	{CodeType, "not an integer, decimal number or yes/no value"},
	{CodeLength, "longer than max_length characters"},
	{CodeRange, "outside min–max"},
	{CodeEncoding, "invalid UTF-8 (transcode GBK/GB18030 before validating)"},
	{CodeInconsistent, "contradicts the field it derives from (e.g. gender vs. the ID number)"},
	{CodeUnknownField, "the record has a field the dataset does not declare"},
}

// Markdown renders the standard as the Markdown of docs/data-standard.md. The output depends only
// on the standard's files.
func (s *Standard) Markdown() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# CityPulse data standard (数据标准)\n\n")
	p("<!-- Generated from warehouse/standard/datasets/*.yaml and codetables/*.yaml by `go generate ./warehouse/standard`. Do not edit: a test fails when this file differs from the generator's output. -->\n\n")
	p("The declared standard for departmental feeds and community data: every dataset's fields with type, required, format, code table and sensitivity grade, its identity key for de-duplication across sources, and the code tables. The feeds gateway maps each source's columns to these fields; the cleaning pipeline validates and normalises every record with `standard.Dataset.ValidateRecord`; quality scores count the field errors. Standard digest: `%s`.\n\n", s.digest)

	p("## Datasets\n\n| dataset | 名称 | version | identity key | fields |\n|---|---|---|---|---|\n")
	for _, name := range s.Datasets() {
		d := s.datasets[name]
		p("| [%s](#%s) | %s | %d | %s | %d |\n", d.Name, d.Name, cell(d.Label), d.Version, codeList(d.Identity), len(d.Fields))
	}
	p("\n## Rules\n\n### Types and formats\n\n| type / format | rule |\n|---|---|\n")
	for _, f := range formatDocs {
		p("| `%s` | %s |\n", f.name, cell(f.text))
	}
	p("\n### Sensitivity grades\n\n| grade | meaning |\n|---|---|\n")
	for _, g := range sensitivityDocs {
		p("| `%s` | %s |\n", g.name, cell(g.text))
	}
	p("\n### Field error codes\n\n| code | meaning |\n|---|---|\n")
	for _, e := range errorCodeDocs {
		p("| `%s` | %s |\n", e.name, cell(e.text))
	}
	for _, name := range s.Datasets() {
		d := s.datasets[name]
		p("\n## %s\n\n**%s** · version %d · identity key %s\n\n%s\n\n", d.Name, cell(d.Label), d.Version, codeList(d.Identity), strings.TrimSpace(d.Description))
		p("| field | 中文名 | type | required | format / code table | sensitivity | notes |\n|---|---|---|---|---|---|---|\n")
		for _, f := range d.Fields {
			p("| `%s` | %s | %s | %s | %s | %s | %s |\n", f.Name, cell(f.Label), f.Type, yes(f.Required), fieldRule(f), f.Sensitivity, cell(fieldNotes(f)))
		}
	}
	p("\n## Code tables\n")
	for _, name := range s.CodeTables() {
		t := s.tables[name]
		p("\n### %s\n\n**%s** · version %d · %s\n\n%s\n\n| code | label | also accepted |\n|---|---|---|\n", t.Name, cell(t.Label), t.Version, cell(t.Source), strings.TrimSpace(t.Description))
		for _, c := range t.Codes {
			p("| `%s` | %s | %s |\n", c.Code, cell(c.Label), cell(strings.Join(c.Aliases, ", ")))
		}
	}
	return b.Bytes()
}

func fieldRule(f *Field) string {
	switch {
	case f.CodeTable != "":
		return fmt.Sprintf("[%s](#%s)", f.CodeTable, f.CodeTable)
	case f.Format == FormatRegionCode && f.RegionLevel != "":
		return "`region_code` (" + f.RegionLevel + ")"
	case f.Format != "":
		return "`" + f.Format + "`"
	}
	return ""
}

func fieldNotes(f *Field) string {
	var notes []string
	if f.MaxLength > 0 {
		notes = append(notes, fmt.Sprintf("at most %d characters.", f.MaxLength))
	}
	if f.Min != nil || f.Max != nil {
		notes = append(notes, "range "+f.rangeText()+".")
	}
	if f.DerivedFrom != "" {
		notes = append(notes, "derived from "+f.DerivedFrom+".")
	}
	if f.Description != "" {
		notes = append(notes, strings.TrimSpace(f.Description))
	}
	return strings.Join(notes, " ")
}

func codeList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, " + ")
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}
