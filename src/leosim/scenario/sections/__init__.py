"""The sections of a scenario, in the order they run: each reads the results of those
before it (jamming feeds admission; admission decides who routing carries, which cells
capacity serves and which terminals transmit for exposure).

To add a section: a module here with an object that follows
:class:`~leosim.scenario.sections.base.Section`, its spec in
:mod:`leosim.scenario.schema`, its tables in :mod:`leosim.scenario.columns`, its place in
:data:`SECTIONS`, and its part of the report in :mod:`leosim.present.report`
(docs/architecture.md).
"""

from __future__ import annotations

from leosim.scenario.sections.admission import AdmissionSection
from leosim.scenario.sections.base import Context, Section, SectionResult
from leosim.scenario.sections.capacity import CapacitySection
from leosim.scenario.sections.exposure import ExposureSection
from leosim.scenario.sections.jamming import JammingSection
from leosim.scenario.sections.latency import LatencySection
from leosim.scenario.sections.traffic import TrafficSection

#: Sections that must run before the time steps are routed (they decide who is served).
BEFORE_ROUTING: tuple[Section, ...] = (JammingSection(), AdmissionSection())
#: Sections that read the routed run.
AFTER_ROUTING: tuple[Section, ...] = (TrafficSection(), CapacitySection(), ExposureSection(), LatencySection())
#: Every section, in the order it runs.
SECTIONS: tuple[Section, ...] = BEFORE_ROUTING + AFTER_ROUTING


def run_sections(sections, plan, upstream: dict[str, SectionResult], context: Context) -> dict[str, SectionResult]:
    """Run each section the plan built, in order; each sees the results before it."""
    for s in sections:
        if s.name in plan.sections:
            upstream[s.name] = s.run(plan.sections[s.name], plan, upstream, context)
    return upstream


__all__ = ["AFTER_ROUTING", "BEFORE_ROUTING", "SECTIONS", "Context", "SectionResult", "run_sections"]
