"""Reading a /metrics exposition in tests: samples keyed by name and labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_samples(text: str) -> Samples:
    """Every sample of an exposition as {(name, sorted labels): value}."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            samples[key] = samples.get(key, 0.0) + sample.value
    return samples


def sample_value(samples: Samples, name: str, **labels: str) -> float:
    """The sample with exactly these labels; 0 when it was not exposed."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def sample_sum(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every label set that includes ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))
