package analytics

import (
	"encoding/json"
	"fmt"
)

// Context describes where an event happened: the app, the device, the network and the city's
// own dimensions. Every field is optional; zero fields are left out of the JSON. A Context given
// with WithDefaultContext travels once per batch and the collector merges it under each event's
// own Context (the event's fields win).
type Context struct {
	App      App      `json:"app,omitzero"`
	OS       OS       `json:"os,omitzero"`
	Device   Device   `json:"device,omitzero"`
	Network  Network  `json:"network,omitzero"`
	Campaign Campaign `json:"campaign,omitzero"`
	Library  Library  `json:"library,omitzero"`

	// RegionCode is the 12-digit statistical division code of the community the event concerns,
	// e.g. "510104017001"; the collector rejects any other form.
	RegionCode string `json:"region_code,omitempty"`
	// ServiceID is the service catalogue id the event concerns (1…4294967295).
	ServiceID uint32 `json:"service_id,omitempty"`
	// SessionID groups the events of one visit.
	SessionID string `json:"session_id,omitempty"`

	IP        string `json:"ip,omitempty"`
	Locale    string `json:"locale,omitempty"`
	Timezone  string `json:"timezone,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`

	// Extra holds further context keys, written beside the fields above (a field above wins
	// over an Extra key of the same JSON name).
	Extra map[string]any `json:"-"`
}

// App is context.app: the application that sent the event.
type App struct {
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
	Build     string `json:"build,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// OS is context.os.
type OS struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// Device is context.device. Type is what the warehouse keeps (e.g. "server", "ios", "android").
type Device struct {
	ID           string `json:"id,omitempty"`
	Type         string `json:"type,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Name         string `json:"name,omitempty"`
}

// Network is context.network.
type Network struct {
	Carrier  string `json:"carrier,omitempty"`
	Cellular bool   `json:"cellular,omitempty"`
	WiFi     bool   `json:"wifi,omitempty"`
}

// Campaign is context.campaign: the UTM parameters that brought the user.
type Campaign struct {
	Name    string `json:"name,omitempty"`
	Source  string `json:"source,omitempty"`
	Medium  string `json:"medium,omitempty"`
	Term    string `json:"term,omitempty"`
	Content string `json:"content,omitempty"`
}

// Library is context.library: the SDK. The client fills it in for every batch.
type Library struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// contextFields has Context's fields without its MarshalJSON.
type contextFields Context

// MarshalJSON writes the fields and the Extra keys as one object.
func (c Context) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(contextFields(c))
	if err != nil || len(c.Extra) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range c.Extra {
		if _, taken := m[k]; taken {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("context extra %q: %w", k, err)
		}
		m[k] = raw
	}
	return json.Marshal(m)
}
