package simulate

// The behaviour model's parameters. With the defaults (10,000 residents, 14 days) they give about
// 1.8 events per resident-day, i.e. about 250,000 events (TestDefaultSizing): mean daily activity
// ≈ 0.24, sessions per active day ≈ 1.6, events per session ≈ 4.7.
const (
	// HeavyUserShare of residents use the app most days, with a daily activity probability drawn
	// from [HeavyActivityMin, HeavyActivityMax); the rest are light users in
	// [LightActivityMin, LightActivityMax). District tiers scale both (tierParams.activity).
	HeavyUserShare   = 0.20
	HeavyActivityMin = 0.55
	HeavyActivityMax = 0.75
	LightActivityMin = 0.03
	LightActivityMax = 0.25
	MaxActivity      = 0.95

	// WeekendActivityFactor scales every resident's activity on Saturdays and Sundays.
	WeekendActivityFactor = 0.9

	// ExtraSessionProb is the chance of each further session on an active day (geometric),
	// capped at MaxSessionsPerDay.
	ExtraSessionProb  = 0.38
	MaxSessionsPerDay = 8

	// ExtraServiceProb is the chance of each further service in a session (geometric), capped at
	// MaxServicesPerSession.
	ExtraServiceProb      = 0.45
	MaxServicesPerSession = 8

	// SearchShare of service visits start with a search; OpenShare of views open the service;
	// CompleteShare of opens finish it.
	SearchShare   = 0.20
	OpenShare     = 0.80
	CompleteShare = 0.60

	// FavouriteShare of service choices come from the resident's two favourite categories.
	FavouriteShare = 0.35

	// ZipfExponent shapes service popularity: the service of popularity rank k (from 1) has weight
	// k^-ZipfExponent before district and weekday tilts.
	ZipfExponent = 1.1

	// RegisteredShare of residents have an account (a userId). Each device of a registered
	// resident is logged in before the window with DeviceLoggedInShare, logs in on a day inside
	// the window with DeviceLoginLaterShare, and otherwise stays anonymous.
	RegisteredShare       = 0.80
	DeviceLoggedInShare   = 0.80
	DeviceLoginLaterShare = 0.10

	// ReIdentifyShare of sessions on a logged-in device send identify again (profile refresh);
	// the first session of a logged-in device in a run always does.
	ReIdentifyShare = 0.03

	// SecondDeviceShare of residents use two devices; PrimaryDeviceShare of their sessions are on
	// the first.
	SecondDeviceShare  = 0.30
	PrimaryDeviceShare = 0.75
)

// AppName is context.app.name of the native apps; the mini-program and H5 add a suffix.
const AppName = "市民云"

// platform is the client kind of a device.
type platform uint8

const (
	platformAndroid platform = iota
	platformIOS
	platformMini // WeChat mini-program
	platformH5
	numPlatforms
)

// platformShares of devices, by platform (first device); older residents lean to the
// mini-program and H5 (agePlatformTilt).
var platformShares = [numPlatforms]float64{0.55, 0.25, 0.12, 0.08}

// ageGroups and their shares among app users.
var (
	ageGroups      = []string{"18-24", "25-34", "35-44", "45-59", "60+"}
	ageGroupShares = []float64{0.12, 0.27, 0.24, 0.24, 0.13}
)

// hourProfile is the relative chance of a session starting in each hour (Asia/Shanghai):
// [0] weekdays, with morning and evening peaks; [1] weekends, a later, flatter morning.
var hourProfile = [2][24]float64{
	{0.6, 0.3, 0.15, 0.1, 0.1, 0.3, 1.2, 3.0, 5.5, 7.0, 7.5, 6.5, 5.0, 4.5, 5.5, 5.5, 5.0, 4.5, 5.0, 6.5, 7.5, 7.0, 4.5, 2.0},
	{1.0, 0.5, 0.25, 0.12, 0.1, 0.2, 0.5, 1.2, 2.5, 4.5, 6.0, 6.5, 5.5, 5.0, 5.5, 6.0, 6.0, 5.5, 5.5, 6.5, 7.5, 7.5, 5.5, 3.0},
}

// categoryParams are per service category (dimdata.Categorize):
// base ranks the category's services in the popularity order; weekend multiplies its weight on
// Saturdays and Sundays (offices closed: 社保/公积金/政务 fall; 文体/生活 rise).
var categoryParams = map[string]struct{ base, weekend float64 }{
	"社保医保": {2.0, 0.35},
	"公积金":  {1.9, 0.30},
	"交通出行": {2.0, 1.20},
	"医疗健康": {1.9, 0.90},
	"生活服务": {1.7, 1.70},
	"新闻资讯": {1.5, 1.00},
	"住房房产": {1.2, 0.60},
	"教育培训": {1.1, 0.80},
	"法律政务": {1.0, 0.40},
	"社区服务": {1.0, 1.30},
	"文体旅游": {1.0, 2.50},
	"就业人才": {0.8, 0.50},
	"其他":   {0.6, 1.00},
}

// tier is a district's kind, read from its code and name (see tierOf).
type tier uint8

const (
	tierCore       tier = iota // 市辖区 of the old city centre (code 01–11, name ends in 区)
	tierSuburban               // other 市辖区 and development zones
	tierCountyCity             // 县级市 (code 81–99)
	tierCounty                 // 县
	numTiers
)

var tierNames = [numTiers]string{"core", "suburban", "county-city", "county"}

// tierParams: density is the residents per community relative to a county's; activity scales
// the residents' daily activity; tilt multiplies category weights.
var tierParams = [numTiers]struct {
	density, activity float64
	tilt              map[string]float64
}{
	tierCore: {4.0, 1.15, map[string]float64{
		"交通出行": 1.5, "文体旅游": 1.5, "就业人才": 1.4, "公积金": 1.2, "住房房产": 1.1, "社区服务": 0.8}},
	tierSuburban: {2.0, 1.0, map[string]float64{
		"住房房产": 1.3, "教育培训": 1.3, "交通出行": 1.2}},
	tierCountyCity: {1.0, 0.9, map[string]float64{
		"社保医保": 1.3, "医疗健康": 1.2, "社区服务": 1.3, "交通出行": 0.7, "文体旅游": 0.8}},
	tierCounty: {0.8, 0.85, map[string]float64{
		"社保医保": 1.5, "生活服务": 1.3, "社区服务": 1.5, "医疗健康": 1.2, "交通出行": 0.6,
		"文体旅游": 0.7, "公积金": 0.7, "就业人才": 0.6}},
}

// ageFavouriteTilt multiplies category weights when a resident's two favourite categories are
// drawn, by age group index.
var ageFavouriteTilt = []map[string]float64{
	{"就业人才": 2.0, "文体旅游": 1.8, "交通出行": 1.5, "教育培训": 1.3},
	{"就业人才": 1.5, "公积金": 1.5, "住房房产": 1.5, "交通出行": 1.3},
	{"教育培训": 2.0, "公积金": 1.4, "住房房产": 1.4, "医疗健康": 1.2},
	{"社保医保": 1.5, "医疗健康": 1.5, "教育培训": 1.2},
	{"社保医保": 2.5, "医疗健康": 2.0, "社区服务": 1.8, "生活服务": 1.3, "就业人才": 0.3},
}

// agePlatformTilt multiplies platformShares by age group index.
var agePlatformTilt = [][numPlatforms]float64{
	{1, 1.3, 0.8, 0.7},
	{1, 1.2, 0.9, 0.8},
	{1, 1, 1, 1},
	{1, 0.8, 1.3, 1.2},
	{0.9, 0.6, 2.0, 1.8},
}
