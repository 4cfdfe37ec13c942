package dev.parley.bench;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.AxisState;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.LogTick;
import org.jfree.chart.axis.TickType;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.entity.EntityCollection;
import org.jfree.chart.plot.CrosshairState;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.text.TextUtils;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.Range;
import org.jfree.data.xy.XYDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.SVGUtils;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Draws the series of {@code bench chart} as an XY line chart (JFreeChart) into SVG text (JFreeSVG).
 * The text must be the same bytes for the same input, so that charts kept in docs/ diff cleanly:
 * JFreeSVG names its clip paths after {@code System.nanoTime()} unless told a prefix, and numbers
 * are formatted in {@link Locale#ROOT}, never the machine's locale. What still depends on the
 * machine is the font metrics Java measures text with (DejaVu Sans here), which move the axes by a
 * pixel or two on another system's fonts.
 */
final class SvgChart {
    /** Fixed size, to fit GitHub's page column (about 880 px) without scaling the text down. */
    static final int WIDTH = 800;
    static final int HEIGHT = 450;

    /** Okabe and Ito's palette, told apart by people with the common colour blindnesses; shapes differ per series too. */
    private static final Color[] PALETTE = {
            new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73), new Color(0xCC79A7),
            new Color(0xE69F00), new Color(0x56B4E9), new Color(0x000000), new Color(0xF0E442)};

    /** @param yMarker a horizontal line across the plot (a bound), or null; {@code yMarkerLabel} its words, or null */
    record Spec(String title, String xLabel, String yLabel, boolean logX, boolean logY, Double yMarker, String yMarkerLabel,
                String description) {}

    private SvgChart() {}

    /** The SVG document: an XML declaration, then one {@code <svg>} with a {@code <title>} and a {@code <desc>}. */
    static String render(Spec spec, List<ChartData.Series> series) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (ChartData.Series s : series) {
            XYSeries xy = new XYSeries(s.name(), true, true);
            for (ChartData.Point p : s.points()) xy.add(p.x(), p.y());
            data.addSeries(xy);
        }
        XYPlot plot = new XYPlot(data, axis(spec.xLabel(), spec.logX()), axis(spec.yLabel(), spec.logY()), new PointGroupRenderer());
        if (spec.yMarker() != null) {
            ValueMarker bound = new ValueMarker(spec.yMarker(), Color.DARK_GRAY,
                    new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
            if (spec.yMarkerLabel() != null) {
                bound.setLabel(spec.yMarkerLabel());
                bound.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                bound.setLabelBackgroundColor(Color.WHITE);
                bound.setLabelAnchor(RectangleAnchor.TOP_LEFT);
                bound.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
                bound.setLabelOffset(new RectangleInsets(4, 6, 4, 6));
            }
            plot.addRangeMarker(bound);
            includeInRange(plot.getRangeAxis(), spec.yMarker(), spec.logY());
        }
        JFreeChart chart = new JFreeChart(spec.title(), plot);
        theme().apply(chart);
        LegendTitle legend = chart.getLegend();
        legend.setPosition(RectangleEdge.BOTTOM);
        legend.setFrame(BlockBorder.NONE);
        chart.setPadding(new RectangleInsets(8, 8, 8, 16));
        XYLineAndShapeRenderer renderer = (XYLineAndShapeRenderer) plot.getRenderer();
        for (int i = 0; i < series.size(); i++) {
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }

        // JFreeChart draws rotated text (the y axis's label) as glyph outlines unless told not to
        // (a workaround for an old JDK bug): in SVG that would be a path no one can read or search.
        TextUtils.setUseDrawRotatedStringWorkaround(false);
        SVGGraphics2D g2 = new SVGGraphics2D(WIDTH, HEIGHT);
        g2.setDefsKeyPrefix("chart");
        chart.draw(g2, new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
        String svg = g2.getSVGElement(null, true, null, null, null);
        // JFreeSVG has no call for the document's own title and description: they go right after
        // the opening tag, where screen readers and browsers (a tooltip) look for them.
        int open = svg.indexOf('>') + 1;
        String a11y = "<title>" + SVGUtils.escapeForXML(spec.title()) + "</title><desc>" + SVGUtils.escapeForXML(spec.description()) + "</desc>";
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg.substring(0, open) + a11y + svg.substring(open) + "\n";
    }

    /** A bound above or below every point is still drawn: the axis reaches a little past it. */
    private static void includeInRange(ValueAxis axis, double v, boolean log) {
        Range r = axis.getRange();
        if (r.contains(v)) return;
        double span = r.getUpperBound() - r.getLowerBound();
        double low = v >= r.getLowerBound() ? r.getLowerBound() : log ? v / 1.25 : v - span * 0.05;
        double high = v <= r.getUpperBound() ? r.getUpperBound() : log ? v * 1.25 : v + span * 0.05;
        axis.setRange(low, high);
    }

    private static ValueAxis axis(String label, boolean log) {
        if (log) {
            LogAxis a = new DecadeAxis(label);
            a.setNumberFormatOverride(new Compact());
            return a;
        }
        NumberAxis a = new NumberAxis(label);
        a.setNumberFormatOverride(new Compact());
        return a;
    }

    private static StandardChartTheme theme() {
        // The JFree theme's fonts are Tahoma, which few machines and no SVG viewer can count on;
        // SansSerif becomes font-family sans-serif in the SVG.
        StandardChartTheme t = (StandardChartTheme) StandardChartTheme.createJFreeTheme();
        t.setExtraLargeFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        t.setLargeFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        t.setRegularFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        t.setSmallFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        t.setChartBackgroundPaint(Color.WHITE);
        t.setPlotBackgroundPaint(Color.WHITE);
        t.setPlotOutlinePaint(Color.GRAY);
        t.setDomainGridlinePaint(new Color(0xD0D0D0));
        t.setRangeGridlinePaint(new Color(0xD0D0D0));
        return t;
    }

    /**
     * Wraps each point's marker in {@code <g jfreesvg:ref='{"seriesKey": ..., "itemIndex": ...}'>}:
     * the SVG then says which drawn shape is which result, for a reader of the file and for tests.
     */
    private static final class PointGroupRenderer extends XYLineAndShapeRenderer {
        PointGroupRenderer() {
            super(true, true);
        }

        @Override
        protected void drawSecondaryPass(Graphics2D g2, XYPlot plot, XYDataset dataset, int pass, int series, int item,
                                         ValueAxis domainAxis, Rectangle2D dataArea, ValueAxis rangeAxis,
                                         CrosshairState crosshairState, EntityCollection entities) {
            beginElementGroup(g2, dataset.getSeriesKey(series), item);
            super.drawSecondaryPass(g2, plot, dataset, pass, series, item, domainAxis, dataArea, rangeAxis, crosshairState, entities);
            endElementGroup(g2);
        }
    }

    /**
     * A log axis ticked at 1, 2 and 5 times the powers of ten (only the powers when the range spans
     * more than three decades). LogAxis's own ticks fall at fractional powers (3,162.2777) or, held
     * to whole ones, leave two labels on a curve of saturation steps.
     */
    private static final class DecadeAxis extends LogAxis {
        DecadeAxis(String label) {
            super(label);
        }

        @Override
        @SuppressWarnings("rawtypes")
        public List refreshTicks(Graphics2D g2, AxisState state, Rectangle2D dataArea, RectangleEdge edge) {
            Range range = getRange();
            TextAnchor anchor = edge == RectangleEdge.TOP ? TextAnchor.BOTTOM_CENTER : edge == RectangleEdge.BOTTOM ? TextAnchor.TOP_CENTER
                    : edge == RectangleEdge.LEFT ? TextAnchor.CENTER_RIGHT : TextAnchor.CENTER_LEFT;
            int low = (int) Math.floor(Math.log10(range.getLowerBound()));
            int high = (int) Math.ceil(Math.log10(range.getUpperBound()));
            boolean fine = high - low <= 3;
            List<LogTick> ticks = new ArrayList<>();
            for (int k = low; k <= high; k++) {
                for (int m : new int[]{1, 2, 5}) {
                    double v = m * Math.pow(10, k);
                    if (!range.contains(v)) continue;
                    boolean labelled = m == 1 || fine;
                    ticks.add(new LogTick(labelled ? TickType.MAJOR : TickType.MINOR, v, labelled ? createTickLabel(v) : null, anchor));
                }
            }
            return ticks;
        }
    }

    /** Tick labels that fit: 950, 12.5k, 2.5M; always in Locale.ROOT. */
    static final class Compact extends NumberFormat {
        private static final DecimalFormatSymbols ROOT = DecimalFormatSymbols.getInstance(Locale.ROOT);

        @Override
        public StringBuffer format(double v, StringBuffer out, FieldPosition pos) {
            double a = Math.abs(v);
            if (a >= 1e6) return out.append(new DecimalFormat("0.###", ROOT).format(v / 1e6)).append('M');
            if (a >= 1e4) return out.append(new DecimalFormat("0.###", ROOT).format(v / 1e3)).append('k');
            return out.append(new DecimalFormat("#,##0.####", ROOT).format(v));
        }

        @Override
        public StringBuffer format(long v, StringBuffer out, FieldPosition pos) {
            return format((double) v, out, pos);
        }

        @Override
        public Number parse(String source, ParsePosition pos) {
            throw new UnsupportedOperationException("tick labels are only written");
        }
    }
}
