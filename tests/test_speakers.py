"""In-article speaker resolution: names, titles, roles, appositives, pronouns, descriptions, anonymity."""

from __future__ import annotations

from storytrace.nlp.quotes import extract
from storytrace.nlp.speakers import name_part


def speaker_of(text: str, piece: str):
    at = text.index(piece)
    [q] = [q for q in extract(text) if any(s.start <= at < s.end for s in (q.content_spans or (q.content,)))]
    return q


def test_name_part_drops_roles_titles_and_appositives() -> None:
    assert name_part("Unite general secretary Len McCluskey") == ["Len", "McCluskey"]
    assert name_part("Mr Watson, Labour MP for West Bromwich East") == ["Watson"]
    assert name_part("Manuel Cortes, the general secretary of the TSSA") == ["Manuel", "Cortes"]
    assert name_part("The Leeds North East MP") == []
    assert name_part("Compass’ Neal Lawson") == ["Neal", "Lawson"]


def test_surname_and_title_resolve_to_the_full_name() -> None:
    text = ("Unite leader Len McCluskey spoke on Sunday.\n\n"
            "Mr McCluskey said: “This has been a political lynching of a decent man.”")
    assert speaker_of(text, "political lynching").speaker == "Len McCluskey"


def test_pronoun_takes_the_previous_speaker_not_a_name_inside_the_quote() -> None:
    text = ("Blair said: “I have refused to intervene about whether Jeremy Corbyn should stay.”\n\n"
            "He added: “What I will say is that a democracy needs an opposition.”")
    q = speaker_of(text, "What I will say")
    assert (q.source.text, q.speaker) == ("He", "Blair")


def test_role_description_resolves_to_the_subject_before_it() -> None:
    text = ("Mr Watson, Labour MP for West Bromwich East, insisted Labour could win an election.\n\n"
            "But he expressed frustration with people who supported Mr Corbyn in the past.\n\n"
            "The Black Country MP said: “They should be sticking with their leader in the bad times.”")
    q = speaker_of(text, "sticking with")
    assert q.source.text == "The Black Country MP" and q.speaker == "Watson"


def test_appositive_speaker_named_before_the_quote() -> None:
    text = ("James Schneider, a spokesman for Momentum, which claims to have up to 100,000 members, said: "
            "“I think the membership will be upset.”")
    assert speaker_of(text, "I think").speaker == "James Schneider"


def test_speaker_named_after_the_quote() -> None:
    text = "“The extraordinary behaviour of MPs has achieved nothing,” Len McCluskey said."
    assert speaker_of(text, "extraordinary").speaker == "Len McCluskey"


def test_anonymous_sources_are_marked_with_their_description() -> None:
    text = ("On Sunday, sources close to Mr Corbyn said they had blocked Mr Watson from speaking to him.\n\n"
            "“We are not letting that happen. This is not a one-off,” the source added.")
    for piece in ("they had blocked", "We are not letting"):
        q = speaker_of(text, piece)
        assert q.anonymous and q.speaker is None and q.unresolved_reason == "anonymous source"
    assert speaker_of(text, "they had blocked").source.text == "sources close to Mr Corbyn"


def test_named_spokesman_is_not_anonymous() -> None:
    text = "A spokesman for Mr McDonnell said: “This article was written a week ago.”"
    q = speaker_of(text, "This article")
    assert q.anonymous and q.speaker is None


def test_a_description_with_the_name_in_apposition_resolves_to_the_name() -> None:
    for text in ("The group’s spokesman, John Smith, said: “We are ready for this fight and will win it.”",
                 "“We are ready for this fight and will win it,” said the union’s general secretary, Manuel Cortes."):
        q = speaker_of(text, "We are ready")
        assert q.speaker in {"John Smith", "Manuel Cortes"} and not q.anonymous
    q = speaker_of("A senior official, speaking in Washington, said: “We are ready for this fight.”", "We are ready")
    assert q.anonymous and q.speaker is None  # "speaking in Washington" names nobody


def test_pronoun_without_antecedent_is_unresolved_with_a_reason() -> None:
    q = speaker_of("“We will not stand down over this,” he said.", "We will not")
    assert q.speaker is None and "pronoun" in q.unresolved_reason


def test_ambiguous_surname_is_unresolved_not_guessed() -> None:
    text = ("Bill Clinton and Hillary Clinton arrived in Ohio.\n\n"
            "“We are going to win this state by a lot,” Clinton said.")
    q = speaker_of(text, "We are going")
    assert q.speaker is None and "ambiguous" in q.unresolved_reason


def test_she_skips_a_man() -> None:
    text = ("Mr Smith spoke first. Angela Eagle was next.\n\n"
            "Mr Smith left the room.\n\n“I will stand for the leadership of the party,” she said.")
    assert speaker_of(text, "I will stand").speaker == "Angela Eagle"


def test_a_participle_speaks_for_the_first_name_of_its_sentence_not_the_last() -> None:
    """"Sanders visited NBC to discuss his rival, Hillary Clinton, saying ...": Sanders speaks (a stop inside "(I-Vt.)"
    or after "Mrs." ends no sentence); a sentence that opens with a description leaves the participle unresolved
    rather than lending it a name from its object."""
    text = ("Sen. Bernie Sanders (I-Vt.) visited NBC’s “Today” to discuss his remarks about his rival, Hillary "
            "Clinton, saying “on her worst day” she’d be “an infinitely better president” than any Republican.")
    assert speaker_of(text, "on her worst day").speaker == "Bernie Sanders"
    text = ("The president left no doubt of his commitment to helping Mrs. Clinton succeed him, saying that “there "
            "has never been a man or a woman more qualified than Hillary Clinton” to serve as president.")
    assert speaker_of(text, "there has never been").speaker is None


def test_a_participle_after_a_pronoun_or_a_description_takes_it_as_its_source_mention() -> None:
    """"He dismissed ..., saying" and "The Vermont senator emailed supporters saying": the subject is the mention
    (PolNeAR's source span), resolved as a mention; a subject that is neither leaves the participle alone."""
    text = ("Bernie Sanders spoke in Ohio on Monday.\n\n"
            "On Tuesday, he visited a diner in Akron, saying “the numbers will change.”\n\n"
            "The Vermont senator emailed supporters saying: “The struggle continues” and vowing to compete.\n\n"
            "Hillary Clinton spoke in Iowa.\n\n"
            "The piece goes on, arguing “the race is over.”")
    quotes = extract(text)
    changed = next(q for q in quotes if "numbers will change" in q.content.text)
    assert (changed.source.text, changed.speaker) == ("he", "Bernie Sanders")
    assert next(q for q in quotes if "struggle" in q.content.text).source.text == "The Vermont senator"
    assert next(q for q in quotes if "race is over" in q.content.text).source is None


def test_a_capitalised_opener_is_no_part_of_a_name() -> None:
    """"For Obama, the format was not ideal." gave a person "For Obama", and then every "he" after it."""
    assert name_part("For Obama") == ["Obama"] and name_part("Despite Santilli") == ["Santilli"]
    text = ('Barack Obama spoke in Ohio. For Obama, the format was not ideal. He said: "It was fine for a start."')
    assert speaker_of(text, "It was fine").speaker == "Barack Obama"
