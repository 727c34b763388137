package dashboards

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"time"

	"github.com/go-echarts/go-echarts/v2/render"
)

// Paths the page uses. The API path is the apiserver's; the binary serves both on one listener.
const (
	AssetsPath    = "/assets/"
	DashboardPath = "/dashboard"
	OverviewAPI   = "/api/v1/overview"
)

//go:embed templates/screen.html
var templateFS embed.FS

// snippet is one chart's element and init script, as go-echarts renders them.
type snippet struct {
	Element template.HTML
	Script  template.HTML
}

type pageData struct {
	Assets, API, Dashboard string
	RefreshMS              int64
	RefreshText            string
	Trend                  snippet
	Services               snippet
	Children               snippet
}

func snippetOf(r render.Renderer) snippet {
	s := r.RenderSnippet()
	// Both are go-echarts template output from our own options, not user input.
	return snippet{Element: template.HTML(s.Element), Script: template.HTML(s.Script)}
}

// renderScreen renders the big-screen page once; it is the same for every region (live.js reads
// the region from the URL).
func renderScreen(cfg Config) ([]byte, error) {
	tpl, err := template.ParseFS(templateFS, "templates/screen.html")
	if err != nil {
		return nil, fmt.Errorf("parse dashboard template: %w", err)
	}
	data := pageData{
		Assets:      AssetsPath,
		API:         OverviewAPI,
		Dashboard:   DashboardPath,
		RefreshMS:   cfg.Refresh.Milliseconds(),
		RefreshText: refreshText(cfg.Refresh),
		Trend:       snippetOf(trendChart()),
		Services:    snippetOf(servicesChart()),
		Children:    snippetOf(childrenChart()),
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render dashboard: %w", err)
	}
	return buf.Bytes(), nil
}

func refreshText(d time.Duration) string {
	switch {
	case d <= 0:
		return "自动刷新已关闭"
	case d%time.Minute == 0:
		return fmt.Sprintf("每 %d 分钟自动刷新", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("每 %d 秒自动刷新", d/time.Second)
	}
	return "每 " + d.String() + " 自动刷新"
}
