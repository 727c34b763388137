package community

import (
	"context"
	"fmt"
	"sort"

	"github.com/citypulse/citypulse/ingest/feeds"
)

// Sources of the generated feeds, as registered with the feeds gateway.
const (
	SourceCommunity = "community" // 社区采集: the community offices' collection tool (kind community)
	SourcePolice    = "police"    // 公安户籍: the household register, in its own style (department)
	SourceMarket    = "market"    // 市场监管: market-entity registration (department)
	SourceHotline   = "hotline"   // 12345 热线: the city's opinion and complaint platform (department)
)

// File formats of the generated files.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// SourceSpec is one simulated source: who it is and how it writes each dataset it sends.
type SourceSpec struct {
	ID   string
	Name string
	Kind string // feeds.KindDepartment or feeds.KindCommunity
	// Datasets in the order the source's files are written.
	Datasets []SourceDataset
}

// SourceDataset is how a source writes one dataset.
type SourceDataset struct {
	Dataset string
	Format  string // FormatCSV or FormatJSONL
	// Rename maps standard field names to the source's own column names (nil: standard names).
	Rename map[string]string
	// KeyField is the standard field that keys the gateway's Kafka records ("" for none).
	KeyField string
}

// Style of each source besides its column names: the community office sends codes and ISO dates
// (the standard's forms); the police sends labels, YYYYMMDD dates and slashed date-times; market
// regulation sends labels and slashed dates; the hotline sends labels and ISO 8601 date-times with
// a zone. Sources other than the community office therefore get quality flags such as code_mapped
// and dirty_fixed on every row by their style alone; planted dirt is what the ground truth lists.
func Sources() []SourceSpec {
	return []SourceSpec{
		{ID: SourceCommunity, Name: "社区基础数据采集（模拟）", Kind: feeds.KindCommunity, Datasets: []SourceDataset{
			{Dataset: DatasetPerson, Format: FormatCSV, KeyField: "id_card"},
			{Dataset: DatasetHouse, Format: FormatCSV},
			{Dataset: DatasetPersonHouse, Format: FormatCSV, KeyField: "id_card"},
			{Dataset: DatasetFacility, Format: FormatCSV, KeyField: "facility_id"},
			{Dataset: DatasetActivity, Format: FormatCSV, KeyField: "activity_id"},
			{Dataset: DatasetSpaceBooking, Format: FormatCSV, KeyField: "booking_id"},
			{Dataset: DatasetSurvey, Format: FormatJSONL, KeyField: "response_id"},
		}},
		{ID: SourcePolice, Name: "市公安局人口户籍（模拟）", Kind: feeds.KindDepartment, Datasets: []SourceDataset{
			{Dataset: DatasetPerson, Format: FormatCSV, KeyField: "id_card", Rename: map[string]string{
				"id_card": "公民身份号码", "name": "姓名", "gender": "性别", "birth_date": "出生日期", "ethnicity": "民族",
				"marital_status": "婚姻状况", "mobile": "联系电话", "residence_status": "人口类型", "region_code": "所属社区代码",
				"address": "现住址", "hukou_address": "户籍地址", "registered_at": "登记时间",
			}},
		}},
		{ID: SourceMarket, Name: "市市场监管局市场主体登记（模拟）", Kind: feeds.KindDepartment, Datasets: []SourceDataset{
			{Dataset: DatasetOrg, Format: FormatCSV, KeyField: "uscc", Rename: map[string]string{
				"uscc": "统一社会信用代码", "name": "主体名称", "org_type": "主体类型", "status": "登记状态", "region_code": "所在社区代码",
				"address": "住所", "legal_person": "法定代表人", "contact_mobile": "联系电话", "established_date": "成立日期",
				"employees": "从业人数", "industry": "行业门类",
			}},
		}},
		{ID: SourceHotline, Name: "12345市民服务热线民意平台（模拟）", Kind: feeds.KindDepartment, Datasets: []SourceDataset{
			{Dataset: DatasetOpinion, Format: FormatJSONL, KeyField: "opinion_id", Rename: map[string]string{
				"opinion_id": "workOrderNo", "region_code": "communityCode", "category": "category", "channel": "channel",
				"title": "title", "content": "content", "submitter_mobile": "callerPhone", "submitted_at": "createTime",
				"status": "state", "closed_at": "finishTime", "satisfaction": "satisfaction",
			}},
		}},
	}
}

// SourceIDs lists the simulated sources' ids in Sources' order.
func SourceIDs() []string {
	var ids []string
	for _, s := range Sources() {
		ids = append(ids, s.ID)
	}
	return ids
}

// sourceSpec returns the spec of a source, or nil.
func sourceSpec(id string) *SourceSpec {
	for _, s := range Sources() {
		if s.ID == id {
			return &s
		}
	}
	return nil
}

// Dataset returns how the source writes a dataset, or nil.
func (s *SourceSpec) Dataset(name string) *SourceDataset {
	for i := range s.Datasets {
		if s.Datasets[i].Dataset == name {
			return &s.Datasets[i]
		}
	}
	return nil
}

// Definition is the source as the feeds gateway registers it (`citypulse source add` takes it as
// JSON): the mapping is the inverse of Rename, from the source's columns to standard fields.
// cityCode is the region of the community source ("" leaves it unset).
func (s SourceSpec) Definition(cityCode string) feeds.Source {
	src := feeds.Source{ID: s.ID, Name: s.Name, Kind: s.Kind, Datasets: map[string]feeds.DatasetConfig{}}
	if s.Kind == feeds.KindCommunity {
		src.RegionCode = cityCode
	}
	for _, d := range s.Datasets {
		dc := feeds.DatasetConfig{KeyField: d.KeyField}
		if len(d.Rename) > 0 {
			dc.Mapping = make(map[string]string, len(d.Rename))
			for field, col := range d.Rename {
				dc.Mapping[col] = field
			}
		}
		src.Datasets[d.Dataset] = dc
	}
	return src
}

// Definitions returns every simulated source as the gateway registers it.
func Definitions(cityCode string) []feeds.Source {
	var out []feeds.Source
	for _, s := range Sources() {
		out = append(out, s.Definition(cityCode))
	}
	return out
}

// RegisterSources registers (or replaces) every simulated source in st and issues each a new key;
// it returns the secrets by source id, ready for Config.PushSecrets (see SecretItems). A source
// that already holds two active keys fails with feeds.ErrTooManyKeys.
func RegisterSources(ctx context.Context, st *feeds.Store, cityCode string) (map[string][]byte, error) {
	secrets := map[string][]byte{}
	for _, src := range Definitions(cityCode) {
		if err := st.Register(ctx, src); err != nil {
			return nil, fmt.Errorf("register simulated source %s: %w", src.ID, err)
		}
		k, err := st.AddKey(ctx, src.ID)
		if err != nil {
			return nil, fmt.Errorf("key simulated source %s: %w", src.ID, err)
		}
		secrets[src.ID] = k.Secret
	}
	return secrets, nil
}

// SecretItems renders secrets as Config.PushSecrets items (source=hex), sorted by source.
func SecretItems(secrets map[string][]byte) []string {
	var out []string
	for id, s := range secrets {
		out = append(out, fmt.Sprintf("%s=%x", id, s))
	}
	sort.Strings(out)
	return out
}
