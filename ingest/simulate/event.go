package simulate

import "time"

// Event types of the Segment spec the simulator sends.
const (
	TypePage     = "page"     // H5 and mini-program views
	TypeScreen   = "screen"   // Android and iOS views
	TypeTrack    = "track"    // EventServiceOpen, EventServiceComplete, EventSearch
	TypeIdentify = "identify" // login and profile updates, with Traits
)

// Track event names.
const (
	EventServiceOpen     = "service_open"
	EventServiceComplete = "service_complete"
	EventSearch          = "search"
)

// Event is one Segment-spec message as a real app sends it in a batch. Field names and JSON keys
// follow the Segment HTTP tracking API; region_code and session_id are the app's own context keys.
type Event struct {
	Type        string      `json:"type"`
	MessageID   string      `json:"messageId"`
	Timestamp   time.Time   `json:"timestamp"`
	AnonymousID string      `json:"anonymousId"`
	UserID      string      `json:"userId,omitempty"`
	Event       string      `json:"event,omitempty"` // track only
	Name        string      `json:"name,omitempty"`  // page and screen: the service name
	Properties  *Properties `json:"properties,omitempty"`
	Traits      *Traits     `json:"traits,omitempty"` // identify only
	Context     Context     `json:"context"`
}

// Properties of page, screen and track events. Every non-identify event carries ServiceID.
type Properties struct {
	ServiceID  uint32 `json:"service_id,omitempty"`
	Category   string `json:"category,omitempty"`
	Path       string `json:"path,omitempty"`  // page only
	Title      string `json:"title,omitempty"` // page only
	URL        string `json:"url,omitempty"`   // H5 page only
	Query      string `json:"query,omitempty"` // search only
	Results    int    `json:"results,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"` // service_complete only
}

// Traits of an identify event. No personal data: an age band, a gender and the home community.
type Traits struct {
	Gender       string `json:"gender"`
	AgeGroup     string `json:"age_group"`
	RegionCode   string `json:"region_code"`
	RegisteredAt string `json:"registered_at"` // YYYY-MM-DD
}

// Context is the Segment context object of one event.
type Context struct {
	App        App     `json:"app"`
	Device     Device  `json:"device"`
	OS         OS      `json:"os"`
	Library    Library `json:"library"`
	Locale     string  `json:"locale"`
	Timezone   string  `json:"timezone"`
	UserAgent  string  `json:"userAgent,omitempty"` // H5 and mini-program
	RegionCode string  `json:"region_code"`         // the resident's community, 12 digits
	SessionID  string  `json:"session_id"`
}

// App is context.app.
type App struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Build   string `json:"build"`
}

// Device is context.device; Type is android, ios, miniprogram or web.
type Device struct {
	ID           string `json:"id"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Type         string `json:"type"`
}

// OS is context.os.
type OS struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Library is context.library: the tracking SDK that would have sent the event.
type Library struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// batchBody is the request body of POST /v1/batch.
type batchBody struct {
	Batch  []Event   `json:"batch"`
	SentAt time.Time `json:"sentAt,omitzero"` // live traffic only; see send
}
