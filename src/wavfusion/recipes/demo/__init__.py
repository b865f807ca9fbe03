"""`wavfusion demo`: the whole system on a generated corpus, offline, in minutes.

Stages (`pipeline.run_demo`): the synthetic corpus (`wavfusion.data.synthetic`), its measured
evidence, one feature cache, the compared models over seeds (`compare`), the ablation tables,
a prediction on a held-out clip (`heldout`), and the report (`report`).
"""
