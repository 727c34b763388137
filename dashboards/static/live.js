/* CityPulse big screen: fetches the overview of the region in the page URL from the API at load
 * and every data-refresh-ms milliseconds, fills the tiles and the go-echarts charts (found by
 * their ChartIDs) with setOption, and keeps the breadcrumb and title in step. Drill-down clicks
 * are handled by the children chart's go-echarts listener, which reads the code put on each bar
 * here. window.citypulse exposes the state and stop() for tests. */
(function () {
  'use strict';

  var body = document.body;
  var api = body.getAttribute('data-api') || '/api/v1/overview';
  var dashboard = body.getAttribute('data-dashboard') || '/dashboard';
  var refreshMs = parseInt(body.getAttribute('data-refresh-ms'), 10) || 0;
  var region = new URLSearchParams(window.location.search).get('region') || '';
  var chartIds = ['trend', 'services', 'children'];
  var childLevelNames = { district: '各区（市）县', street: '各街道（乡镇）', community: '各社区（村）' };

  var state = { loads: 0, errors: 0, lastError: '', data: null, timer: null, finished: {} };
  window.citypulse = { state: state, stop: stop, refresh: load };

  function chart(id) {
    var el = document.getElementById(id);
    return el ? echarts.getInstanceByDom(el) : null;
  }

  chartIds.forEach(function (id) {
    var inst = chart(id);
    if (inst) {
      inst.on('finished', function () { state.finished[id] = state.loads; });
    }
  });

  function text(id, s) {
    var el = document.getElementById(id);
    if (el) { el.textContent = s; }
  }

  function textAll(cls, s) {
    var els = document.getElementsByClassName(cls);
    for (var i = 0; i < els.length; i++) { els[i].textContent = s; }
  }

  function sum(list, key) {
    var s = 0;
    for (var i = 0; i < list.length; i++) { s += list[i][key] || 0; }
    return s;
  }

  /* delta writes label and "▲12.5%" (or ▼) into the element, or clears it without a base. */
  function delta(id, label, before, now) {
    var el = document.getElementById(id);
    if (!el) { return; }
    while (el.firstChild) { el.removeChild(el.firstChild); }
    if (before === null || before === 0) { return; }
    var pct = (now - before) / before * 100;
    el.appendChild(document.createTextNode(label + ' '));
    var span = document.createElement('span');
    span.className = pct >= 0 ? 'up' : 'down';
    span.textContent = (pct >= 0 ? '▲' : '▼') + Math.abs(pct).toFixed(1) + '%';
    el.appendChild(span);
  }

  function fmt(n) { return Number(n || 0).toLocaleString('zh-CN'); }

  function shortName(name) {
    return String(name).replace(/(居民委员会|村民委员会|居委会|村委会)$/, '');
  }

  function link(code) { return dashboard + '?region=' + encodeURIComponent(code); }

  function breadcrumb(path) {
    var nav = document.getElementById('breadcrumb');
    if (!nav) { return; }
    while (nav.firstChild) { nav.removeChild(nav.firstChild); }
    (path || []).forEach(function (r, i) {
      if (i > 0) {
        var sep = document.createElement('span');
        sep.className = 'sep';
        sep.textContent = '›';
        nav.appendChild(sep);
      }
      var el;
      if (i < path.length - 1) {
        el = document.createElement('a');
        el.href = link(r.code);
      } else {
        el = document.createElement('span');
        el.className = 'here';
      }
      el.textContent = r.name;
      el.setAttribute('data-code', r.code);
      nav.appendChild(el);
    });
  }

  function render(ov) {
    document.title = ov.region.name + ' · CityPulse 数据大屏';
    text('title', ov.region.name + ' · 市民服务运行态势');
    breadcrumb(ov.path);
    text('window', '统计窗口 ' + ov.window.from + ' 至 ' + ov.window.to);
    textAll('days', String(ov.window.days));
    textAll('today-date', ov.today.date);
    text('tile-active-users', fmt(ov.active_users));
    text('tile-page-views', fmt(ov.page_views));
    text('tile-today-users', fmt(ov.today.active_users));
    text('tile-today-views', fmt(ov.today.page_views));
    text('events', fmt(ov.events));
    var n = ov.trend.length;
    text('note-active-users', '日均 ' + fmt(Math.round(sum(ov.trend, 'active_users') / Math.max(n, 1))));
    text('note-page-views', '日均 ' + fmt(Math.round(ov.page_views / Math.max(n, 1))));
    /* Today so far compares with yesterday up to the same time when the API counted it;
       a past day compares with the whole day before. */
    var prev = ov.previous_so_far || (n > 1 ? ov.trend[n - 2] : null);
    var label = ov.previous_so_far ? '较昨日同时段' : '较前日';
    delta('note-today-users', label, prev ? prev.active_users : null, ov.today.active_users);
    delta('note-today-views', label, prev ? prev.page_views : null, ov.today.page_views);
    text('updated', ov.updated_at ? new Date(ov.updated_at).toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }) : '暂无数据');

    var trend = chart('trend');
    if (trend) {
      trend.setOption({
        xAxis: [{ data: ov.trend.map(function (d) { return d.date.slice(5); }) }],
        series: [
          { data: ov.trend.map(function (d) { return d.active_users; }) },
          { data: ov.trend.map(function (d) { return d.page_views; }) }
        ]
      });
    }

    var services = chart('services');
    if (services) {
      services.setOption({
        yAxis: [{ data: ov.top_services.map(function (s) { return s.name; }) }],
        series: [{
          label: { formatter: function (p) { return fmt(p.value); } },
          data: ov.top_services.map(function (s) { return { value: s.page_views, name: s.name, category: s.category }; })
        }]
      });
    }

    var kids = ov.children || [];
    var panel = document.getElementById('children');
    var empty = document.getElementById('children-empty');
    if (empty) { empty.hidden = kids.length > 0; }
    if (panel) { panel.style.visibility = kids.length > 0 ? 'visible' : 'hidden'; }
    text('children-title', kids.length > 0 ? (childLevelNames[kids[0].level] || '下级区划') + '分布' : '下级区划');
    var children = chart('children');
    if (children) {
      children.setOption({
        xAxis: [{ data: kids.map(function (c) { return shortName(c.name); }) }],
        series: [
          { data: kids.map(function (c) { return { value: c.page_views, code: c.code, name: c.name }; }) },
          { data: kids.map(function (c) { return { value: c.active_users, code: c.code, name: c.name }; }) }
        ]
      });
    }
  }

  function showError(msg) {
    var el = document.getElementById('error');
    if (el) { el.textContent = msg; el.hidden = false; }
  }

  function hideError() {
    var el = document.getElementById('error');
    if (el) { el.hidden = true; }
  }

  function load() {
    var url = api + (region ? '?region=' + encodeURIComponent(region) : '');
    return fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' })
      .then(function (resp) {
        return resp.json().then(function (data) {
          if (!resp.ok) {
            throw new Error((data && data.error && data.error.message) || ('HTTP ' + resp.status));
          }
          return data;
        });
      })
      .then(function (ov) {
        state.data = ov;
        state.loads++;
        render(ov);
        hideError();
      })
      .catch(function (err) {
        state.errors++;
        state.lastError = String(err && err.message ? err.message : err);
        showError('数据加载失败：' + state.lastError);
      });
  }

  function stop() {
    if (state.timer !== null) {
      clearInterval(state.timer);
      state.timer = null;
    }
  }

  /* The clock shows the city's time (China, UTC+8, the zone of the data's dates), whatever
     the zone of the machine driving the screen. */
  function tick() {
    var now = new Date(Date.now() + 8 * 3600 * 1000);
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    text('clock', now.getUTCFullYear() + '-' + pad(now.getUTCMonth() + 1) + '-' + pad(now.getUTCDate()) + ' ' +
      pad(now.getUTCHours()) + ':' + pad(now.getUTCMinutes()) + ':' + pad(now.getUTCSeconds()));
  }

  window.addEventListener('resize', function () {
    chartIds.forEach(function (id) { var c = chart(id); if (c) { c.resize(); } });
  });

  tick();
  setInterval(tick, 1000);
  load();
  if (refreshMs > 0) {
    state.timer = setInterval(load, refreshMs);
  }
})();
