"""Analysis: any Unicode in, sensible terms out."""
from hypothesis import given, strategies as st

from tfidf import Analyzer
from tfidf.analysis import cjk_bigrams

ANALYZER = Analyzer()


def test_words_numbers_compounds_and_possessives():
    terms = ANALYZER.terms("COVID-19 patients' 3.5 mg/kg, 1,000 cells; O'Neill's ﬁnance of the STUDIES")
    assert terms == ["covid", "19", "covid19", "patient", "3.5", "mg", "kg", "1000", "cell", "o'neil",
                     "financ", "studi"]


def test_cjk_becomes_bigrams_and_other_scripts_pass_through():
    assert cjk_bigrams("北京大学") == ["北京", "京大", "大学"]
    assert ANALYZER.terms("北京大学 مرحبا") == ["北京", "京大", "大学", "مرحبا"]


def test_controls_emoji_and_punctuation_only_separate():
    assert ANALYZER.terms("cat\x00dog🎉bird\u200b—fish") == ["cat", "dog", "bird", "fish"]
    assert ANALYZER.terms("") == [] and ANALYZER.terms("!!! ... ---") == []


def test_no_stemming_language_and_other_languages():
    assert Analyzer("none").terms("Running dogs") == ["running", "dogs"]
    assert Analyzer("german").terms("Häuser") == ["haus"]


@given(st.text())
def test_any_text_gives_a_list_of_nonempty_terms(text):
    terms = ANALYZER.terms(text)
    assert all(isinstance(t, str) and t for t in terms)


def test_arabic_and_hebrew_vowel_points_do_not_split_or_change_words():
    assert ANALYZER.terms("حَبيبي") == ANALYZER.terms("حبيبي") == ["حبيبي"]
    assert ANALYZER.terms("שָׁלוֹם") == ANALYZER.terms("שלום") == ["שלום"]


def test_indic_vowel_signs_stay_inside_their_word():
    assert Analyzer("none").terms("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]
