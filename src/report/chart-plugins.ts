// The Chart.js plugins medeval's charts need, written once as plain browser-safe JavaScript source.
// The same text is evaluated in Node (PNG/SVG rendering) and inlined into report.html, so a chart
// looks the same in both places. It is kept as a string on purpose: a compiled function's
// toString() may carry bundler helpers (esbuild's __name) that do not exist in a browser.
//
// Data the plugins read lives in the (JSON-serialisable) chart configuration:
//   dataset.errorBars:   array parallel to data, each [low, high] in data units, or null
//   dataset.pointLabels: array parallel to data, each a string drawn next to the point, or null
//   options.plugins.medevalBackground.color: canvas fill (default white)
//   options.plugins.medevalHLines.lines: [{ y, label }] horizontal dashed lines across the plot area in
//     y-axis units (the chance level), each labelled at its right end

export const CHART_PLUGINS_SOURCE = String.raw`[
  {
    id: 'medevalBackground',
    beforeDraw: function (chart, _args, options) {
      var ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = (options && options.color) || '#ffffff';
      ctx.fillRect(0, 0, chart.width, chart.height);
      ctx.restore();
    }
  },
  {
    id: 'medevalErrorBars',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      chart.data.datasets.forEach(function (dataset, i) {
        var bars = dataset.errorBars;
        if (!bars || !chart.isDatasetVisible(i)) return;
        var meta = chart.getDatasetMeta(i);
        var scale = chart.scales[meta.yAxisID];
        if (!scale) return;
        ctx.save();
        ctx.strokeStyle = dataset.errorBarColor || '#222222';
        ctx.lineWidth = 1.5;
        meta.data.forEach(function (element, j) {
          var bar = bars[j];
          if (!bar || bar[0] == null || bar[1] == null) return;
          var x = element.x;
          var top = scale.getPixelForValue(bar[1]);
          var bottom = scale.getPixelForValue(bar[0]);
          var half = Math.max(3, Math.min(8, (element.width || 12) * 0.25));
          ctx.beginPath();
          ctx.moveTo(x, top); ctx.lineTo(x, bottom);
          ctx.moveTo(x - half, top); ctx.lineTo(x + half, top);
          ctx.moveTo(x - half, bottom); ctx.lineTo(x + half, bottom);
          ctx.stroke();
        });
        ctx.restore();
      });
    }
  },
  {
    id: 'medevalHLines',
    afterDatasetsDraw: function (chart, _args, options) {
      var lines = (options && options.lines) || [];
      var scale = chart.scales.y;
      var area = chart.chartArea;
      if (!scale || !lines.length) return;
      var ctx = chart.ctx;
      var family = (chart.options.font && chart.options.font.family) || 'sans-serif';
      lines.forEach(function (line) {
        if (line.y == null) return;
        var y = scale.getPixelForValue(line.y);
        if (y < area.top || y > area.bottom) return;
        ctx.save();
        ctx.strokeStyle = line.color || '#555555';
        ctx.lineWidth = 1.5;
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        ctx.moveTo(area.left, y); ctx.lineTo(area.right, y);
        ctx.stroke();
        ctx.setLineDash([]);
        if (line.label) {
          ctx.font = '12px ' + family;
          ctx.fillStyle = line.color || '#555555';
          ctx.textAlign = 'right';
          ctx.textBaseline = 'bottom';
          ctx.fillText(String(line.label), area.right - 4, y - 3);
        }
        ctx.restore();
      });
    }
  },
  {
    id: 'medevalPointLabels',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var area = chart.chartArea;
      var font = chart.options.font || {};
      var size = 12;
      var family = font.family || 'sans-serif';
      chart.data.datasets.forEach(function (dataset, i) {
        var labels = dataset.pointLabels;
        if (!labels || !chart.isDatasetVisible(i)) return;
        var meta = chart.getDatasetMeta(i);
        ctx.save();
        ctx.font = size + 'px ' + family;
        ctx.fillStyle = '#222222';
        ctx.textBaseline = 'bottom';
        meta.data.forEach(function (element, j) {
          var text = labels[j];
          if (text == null || text === '') return;
          var width = ctx.measureText(String(text)).width;
          // Right of the point unless that would run past the plot area; then left of it.
          var x = element.x + 8;
          if (x + width > area.right) x = element.x - 8 - width;
          if (x < area.left) x = area.left;
          var y = element.y - 6;
          if (y - size < area.top) y = element.y + 6 + size;
          ctx.fillText(String(text), x, y);
        });
        ctx.restore();
      });
    }
  }
]`;

/** The plugin objects for Node-side rendering, evaluated from the one shared source. */
export function loadChartPlugins(): object[] {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(`return ${CHART_PLUGINS_SOURCE};`)() as object[];
}
