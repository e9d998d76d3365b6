"""Calibrate the editor's CPU latency estimate on this machine and store it (with when and where).

    python manage.py calibrate_latency --measure 14     # measure 14 specs here (small presets, sampled TVN/EvaNet)
    python manage.py calibrate_latency --candidates     # fit to the latencies searches already measured
Both print every network's estimate against its measurement, uncalibrated and calibrated.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from videomodels.graph import analyze
from videomodels.latency_model import calibrate, features_of

from webapp.studio.services import latency_calibration as lc


class Command(BaseCommand):
    help = "Fit the editor's CPU latency estimate to networks measured on this machine and store it."

    def add_arguments(self, parser):
        parser.add_argument("--measure", type=int, default=0, help="measure this many specs here (small presets, then sampled)")
        parser.add_argument("--candidates", action="store_true", help="use the CPU latencies the studio's searches measured")
        parser.add_argument("--threads", type=int, default=1, help="CPU threads (the searches' default latency_threads is 1)")
        parser.add_argument("--runs", type=int, default=5, help="timed runs per round (three rounds, the lowest median kept)")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, measure, candidates, threads, runs, seed, **options):
        if not measure and not candidates:
            raise CommandError("Say what to calibrate on: --measure N (specs measured here) and/or --candidates.")
        samples, sources = [], []
        if measure:
            samples += lc.measure_specs(lc.sample_specs(measure, seed), threads=threads, runs=runs)
            sources.append(f"specs measured by calibrate_latency ({runs} runs x 3 rounds)")
        if candidates:
            found = lc.candidate_samples()
            samples += found
            sources.append(f"{len(found)} candidates' search measurements")
        if len(samples) < 4:
            raise CommandError(f"Only {len(samples)} measured networks: calibrating needs at least 4.")
        features = [features_of(analyze(spec)) for spec, _ in samples]
        fitted = calibrate(list(zip(features, [ms for _, ms in samples])))
        self.stdout.write(f"{'network':28} {'measured':>10} {'uncalibrated':>13} {'calibrated':>11} {'held-out err':>12}")
        before, after = [], []
        for (spec, measured), f, held_out in zip(samples, features, fitted.errors):
            raw, estimate = lc.uncalibrated_ms(int(f["macs"])), fitted.estimate(f)
            before.append(abs(raw - measured) / measured)
            after.append(abs(estimate - measured) / measured)
            self.stdout.write(f"{spec.name[:28]:28} {measured:9.2f}  {raw:12.2f}  {estimate:10.2f}  {100 * held_out:10.0f} %")
        median = lambda values: sorted(values)[len(values) // 2]  # noqa: E731
        self.stdout.write(f"median |error|: uncalibrated {100 * median(before):.0f} %, calibrated {100 * median(after):.0f} % "
                          f"(in-sample), {100 * median(fitted.errors):.0f} % held out; ± {100 * fitted.error:.0f} % at the 80th percentile")
        row = lc.store(fitted, source=" and ".join(sources), threads=threads)
        self.stdout.write(self.style.SUCCESS(f"stored: {row} — coefficients {row.fit['coefficients']}"))
