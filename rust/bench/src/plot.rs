//! The plot next to the report: Envoy CPU-µs per request against request-body size (log–log),
//! one line per variant, with the header and passthrough jobs as a second panel.

use crate::report::Results;
use crate::variants::{Job, Variant};
use plotters::prelude::*;
use std::path::Path;

fn colour(variant: Variant) -> RGBColor {
    match variant {
        Variant::NoFilter => RGBColor(120, 120, 120),
        Variant::EnvoyX => RGBColor(214, 39, 40),
        Variant::Go => RGBColor(0, 173, 216),
        Variant::GoLoop => RGBColor(120, 210, 235),
        Variant::CModule => RGBColor(31, 119, 180),
        Variant::Lua => RGBColor(44, 160, 44),
        Variant::Wasm => RGBColor(148, 103, 189),
        Variant::ExtProc => RGBColor(255, 127, 14),
        Variant::ExtAuthz => RGBColor(140, 86, 75),
    }
}

/// Writes the SVG plot of `results` to `path`.
pub fn svg(results: &Results, path: &Path) -> Result<(), String> {
    let root = SVGBackend::new(path, (1100, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(700);
    body_sizes(results, &left).map_err(|e| format!("plot: {e}"))?;
    small_jobs(results, &right).map_err(|e| format!("plot: {e}"))?;
    root.present().map_err(|e| format!("plot {}: {e}", path.display()))
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn body_sizes(results: &Results, area: &Area<'_>) -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<usize> =
        results.jobs.iter().filter_map(|j| if let Job::Upper(s) = j { Some(*s) } else { None }).collect();
    let points = |variant: Variant| -> Vec<(f64, f64)> {
        sizes
            .iter()
            .filter_map(|s| Some((*s as f64 / 1024.0, results.cells.get(&(Job::Upper(*s), variant))?.cpu_us)))
            .collect()
    };
    let all: Vec<(f64, f64)> = results.variants.iter().flat_map(|v| points(*v)).collect();
    if all.is_empty() {
        return Ok(());
    }
    let (x_min, x_max) = all.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let (y_min, y_max) = all.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let mut chart = ChartBuilder::on(area)
        .caption("Upper-case the request body: Envoy CPU per request", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (x_min / 1.5..x_max * 1.5).log_scale(),
            (y_min.max(0.1) / 1.5..y_max * 1.5).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("request body (KiB)")
        .y_desc("Envoy CPU-µs / request")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    for variant in &results.variants {
        let line = points(*variant);
        if line.is_empty() {
            continue;
        }
        let c = colour(*variant);
        chart
            .draw_series(LineSeries::new(line.clone(), c.stroke_width(2)))?
            .label(variant.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart.draw_series(line.into_iter().map(|p| Circle::new(p, 3, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Header and passthrough: one dot per variant and job.
fn small_jobs(results: &Results, area: &Area<'_>) -> Result<(), Box<dyn std::error::Error>> {
    let jobs: Vec<Job> = results.jobs.iter().copied().filter(|j| !matches!(j, Job::Upper(_))).collect();
    let values: Vec<f64> = jobs
        .iter()
        .flat_map(|j| results.variants.iter().filter_map(move |v| Some(results.cells.get(&(*j, *v))?.cpu_us)))
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    let y_max = values.iter().copied().fold(0.0, f64::max) * 1.15;
    let n = results.variants.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption("Header add / passthrough", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-0.5..(jobs.len() as f64 - 0.5), 0.0..y_max)?;
    let labels: Vec<String> = jobs.iter().map(|j| j.word().to_string()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(jobs.len())
        .x_label_formatter(&|x| labels.get(x.round() as usize).cloned().unwrap_or_default())
        .y_desc("Envoy CPU-µs / request")
        .draw()?;
    for (i, variant) in results.variants.iter().enumerate() {
        let c = colour(*variant);
        let offset = (i as f64 - (n - 1.0) / 2.0) * 0.12;
        let bars: Vec<(f64, f64)> = jobs
            .iter()
            .enumerate()
            .filter_map(|(x, j)| Some((x as f64 + offset, results.cells.get(&(*j, *variant))?.cpu_us)))
            .collect();
        chart.draw_series(
            bars.into_iter().map(|(x, y)| Rectangle::new([(x - 0.05, 0.0), (x + 0.05, y)], c.filled())),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Summary;

    #[test]
    fn writes_an_svg_with_every_variant_in_the_legend() {
        let mut results = Results {
            jobs: vec![Job::Header, Job::Pass, Job::Upper(1024), Job::Upper(1 << 20)],
            variants: Variant::ALL.to_vec(),
            ..Results::default()
        };
        for (i, v) in Variant::ALL.iter().enumerate() {
            for (j, job) in results.jobs.clone().iter().enumerate() {
                let cpu = 10.0 * (i + 1) as f64 * (j + 1) as f64;
                results.cells.insert((*job, *v), Summary { cpu_us: cpu, ..Summary::default() });
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.svg");
        svg(&results, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("<svg"), "{}", &text[..100.min(text.len())]);
        for v in Variant::ALL {
            assert!(text.contains(v.name()), "legend lacks {}", v.name());
        }
        assert!(text.contains("<polyline") || text.contains("<path"), "no line drawn");
    }
}
