"""Analyses over extracted quotations and text: stances, facts across outlets, and story briefs.

``stance`` (per-article ``stances``, corpus ``stance_changes``), ``facts`` (per-article ``facts``, corpus
``fact_alignment``) and ``brief`` (corpus ``briefs``) are registered in ``storytrace.stages``.
"""
