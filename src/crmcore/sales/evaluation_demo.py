"""The M1 evaluation on the demo book: its closed opportunities, their known win rates.

The demo (``crmcore demo``) generates opportunities through the pipeline service and
draws each outcome from a win rate that depends on the source alone
(:data:`crmcore.demo.sales.WIN_RATES`), so every closed demo opportunity has a known
true probability. :func:`demo_truth_book` stores a demo book in memory, reads its closed
opportunities as the pipeline's win-probability column does
(:func:`~crmcore.sales.pipeline_probability.closed_history`; the amounts are left out,
being in several currencies) and returns them as a
:class:`~crmcore.sales.evaluation_book.KnownTruthBook` for
:func:`~crmcore.sales.evaluation_book.compare_on_book`. The demo holds at most
:data:`~crmcore.demo.sales.MAX_DEMO_OPPORTUNITIES` opportunities, so the
held-out period is small and its scores are noisy: average several seeds.
"""

from __future__ import annotations

from crmcore.sales.evaluation_book import BookOpportunity, KnownTruthBook, held_out_cutoff

__all__ = ["demo_truth_book"]


def demo_truth_book(seed: int = 7, customers: int = 400, held_out: float = 0.25
                    ) -> KnownTruthBook:
    """The closed opportunities of the demo of ``seed``, with their true win rates."""
    from crmcore.app import CRM
    from crmcore.demo import DEFAULT_AS_OF, generate_book
    from crmcore.demo.sales import DEMO_TERRITORIES, WIN_RATES, store_demo_pipeline
    from crmcore.sales.pipeline import PipelineService
    from crmcore.sales.pipeline_probability import closed_history

    with CRM.open("memory") as crm:
        crm.record_many(list(generate_book(customers, seed=seed).customers))
        store_demo_pipeline(crm, DEFAULT_AS_OF, seed=seed)
        service = PipelineService(crm, territories=DEMO_TERRITORIES)
        items = service.opportunities()
        stays = {item.id: service.stays(item.id) for item in items}
    closed = closed_history(items, stays, use_amount=False)
    made = sorted((BookOpportunity(o, WIN_RATES[o.features.source or ""]) for o in closed),
                  key=lambda o: (o.closed.closed_on, o.closed.id))
    return KnownTruthBook(tuple(made), held_out_cutoff(made, held_out))
