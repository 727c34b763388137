package dashboards

import (
	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/event"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// The ChartIDs of the big screen's charts: each is the id of the chart's element and the suffix
// of its go-echarts variable (goecharts_<id>); live.js finds the charts by these ids.
const (
	TrendChartID    = "trend"
	ServicesChartID = "services"
	ChildrenChartID = "children"
)

// ChartIDs lists every chart on the big screen.
var ChartIDs = []string{TrendChartID, ServicesChartID, ChildrenChartID}

// Palette of the big screen (also in screen.css).
const (
	colorCyan  = "#19e3ff"
	colorBlue  = "#3d7bff"
	colorGold  = "#ffc53d"
	colorText  = "#b8d3f5"
	colorMuted = "#5f7fa8"
	colorGrid  = "rgba(80,130,200,0.16)"
)

// drillHandler opens the dashboard of the clicked child region (live.js puts its code on each
// bar). go-echarts joins a handler onto one line: no // comments.
const drillHandler = `function (p) { if (p && p.data && p.data.code) { window.location.assign('/dashboard?region=' + encodeURIComponent(p.data.code)); } }`

func initOpts(id string) opts.Initialization {
	return opts.Initialization{
		ChartID:         id,
		Theme:           "dark", // built into echarts: no theme file to serve
		Width:           "100%",
		Height:          "100%",
		BackgroundColor: "transparent",
		AssetsHost:      AssetsPath,
	}
}

func axisLabel() *opts.AxisLabel { return &opts.AxisLabel{Color: colorText, FontSize: 13} }

func axisLine() *opts.AxisLine {
	return &opts.AxisLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colorMuted}}
}

func splitLine() *opts.SplitLine {
	return &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colorGrid, Type: "dashed"}}
}

func legend() opts.Legend {
	return opts.Legend{Show: opts.Bool(true), Top: "2", Right: "10", TextStyle: &opts.TextStyle{Color: colorText, FontSize: 13}}
}

func axisTooltip() opts.Tooltip {
	return opts.Tooltip{Show: opts.Bool(true), Trigger: "axis", BackgroundColor: "rgba(6,20,48,0.92)", BorderColor: colorCyan}
}

// trendChart is the daily line of active users (left axis) and page views (right axis).
func trendChart() *charts.Line {
	c := charts.NewLine()
	c.SetGlobalOptions(
		charts.WithInitializationOpts(initOpts(TrendChartID)),
		charts.WithLegendOpts(legend()),
		charts.WithTooltipOpts(axisTooltip()),
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "12", Top: "40", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: axisLabel(), AxisLine: axisLine()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", AxisLabel: &opts.AxisLabel{Color: colorCyan, FontSize: 13}, SplitLine: splitLine()}),
	)
	c.ExtendYAxis(opts.YAxis{Type: "value", AxisLabel: &opts.AxisLabel{Color: colorGold, FontSize: 13}, SplitLine: &opts.SplitLine{Show: opts.Bool(false)}})
	c.SetXAxis([]string{})
	c.AddSeries("活跃用户", []opts.LineData{},
		charts.WithLineChartOpts(opts.LineChart{Smooth: opts.Bool(true), Symbol: "circle", SymbolSize: 7}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: colorCyan}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 3}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Color: colorCyan, Opacity: opts.Float(0.12)}),
	)
	c.AddSeries("访问量", []opts.LineData{},
		charts.WithLineChartOpts(opts.LineChart{Smooth: opts.Bool(true), YAxisIndex: 1, Symbol: "circle", SymbolSize: 7}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: colorGold}),
		charts.WithLineStyleOpts(opts.LineStyle{Width: 3}),
		charts.WithAreaStyleOpts(opts.AreaStyle{Color: colorGold, Opacity: opts.Float(0.08)}),
	)
	return c
}

// servicesChart is the horizontal bar of the busiest services, busiest on top.
func servicesChart() *charts.Bar {
	c := charts.NewBar()
	c.SetGlobalOptions(
		charts.WithInitializationOpts(initOpts(ServicesChartID)),
		charts.WithTooltipOpts(axisTooltip()),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "56", Top: "8", Bottom: "4", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Show: opts.Bool(false)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true),
			AxisLabel: &opts.AxisLabel{Color: colorText, FontSize: 13, Width: 150, Overflow: "truncate"}, AxisLine: axisLine()}),
	)
	c.SetXAxis([]string{})
	c.XYReversal()
	c.AddSeries("访问量", []opts.BarData{},
		charts.WithBarChartOpts(opts.BarChart{BarWidth: "55%", ShowBackground: opts.Bool(true)}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: colorBlue}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right", Color: colorCyan, FontSize: 13}),
	)
	return c
}

// childrenChart is the bar of page views and active users per child region; a click on a bar
// drills down to that region.
func childrenChart() *charts.Bar {
	c := charts.NewBar()
	c.SetGlobalOptions(
		charts.WithInitializationOpts(initOpts(ChildrenChartID)),
		charts.WithLegendOpts(legend()),
		charts.WithTooltipOpts(axisTooltip()),
		charts.WithGridOpts(opts.Grid{Left: "12", Right: "12", Top: "40", Bottom: "4", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category",
			AxisLabel: &opts.AxisLabel{Color: colorText, FontSize: 13, Interval: "0", Rotate: 30}, AxisLine: axisLine()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", AxisLabel: axisLabel(), SplitLine: splitLine()}),
		charts.WithEventListeners(event.Listener{EventName: "click", Query: "'series.bar'", Handler: opts.FuncOpts(drillHandler)}),
	)
	c.SetXAxis([]string{})
	c.AddSeries("访问量", []opts.BarData{},
		charts.WithBarChartOpts(opts.BarChart{BarGap: "10%", BarCategoryGap: "35%"}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: colorBlue}),
	)
	c.AddSeries("活跃用户", []opts.BarData{},
		charts.WithItemStyleOpts(opts.ItemStyle{Color: colorCyan}),
	)
	return c
}
