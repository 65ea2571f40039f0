"""Place names in the title languages: countries by ISO code, well-known cities and regions
by the (English) name the geocoder gives, each with the prepositional phrase "in X" where
the language does not simply put its default preposition in front (``au Portugal``,
``in der Schweiz``, ``nei Paesi Bassi``).

Entries are ``"Name"`` or ``"Name|in-phrase"``; order is en, de, fr, es, it, nl. A name not
listed is used as given (cities keep their own name in every language).
"""

from __future__ import annotations

import unicodedata
from functools import cache

_LANGS = ("en", "de", "fr", "es", "it", "nl")

_COUNTRIES: dict[str, tuple[str, str, str, str, str, str]] = {
    "PT": ("Portugal", "Portugal", "Portugal|au Portugal", "Portugal", "Portogallo", "Portugal"),
    "ES": ("Spain", "Spanien", "Espagne", "España", "Spagna", "Spanje"),
    "FR": ("France", "Frankreich", "France", "Francia", "Francia", "Frankrijk"),
    "IT": ("Italy", "Italien", "Italie", "Italia", "Italia", "Italië"),
    "DE": ("Germany", "Deutschland", "Allemagne", "Alemania", "Germania", "Duitsland"),
    "AT": ("Austria", "Österreich", "Autriche", "Austria", "Austria", "Oostenrijk"),
    "CH": ("Switzerland", "Schweiz|in der Schweiz", "Suisse", "Suiza", "Svizzera", "Zwitserland"),
    "NL": ("Netherlands|in the Netherlands", "Niederlande|in den Niederlanden", "Pays-Bas|aux Pays-Bas",
           "Países Bajos|en los Países Bajos", "Paesi Bassi|nei Paesi Bassi", "Nederland"),
    "BE": ("Belgium", "Belgien", "Belgique", "Bélgica", "Belgio", "België"),
    "LU": ("Luxembourg", "Luxemburg", "Luxembourg|au Luxembourg", "Luxemburgo", "Lussemburgo", "Luxemburg"),
    "GB": ("United Kingdom|in the United Kingdom", "Großbritannien", "Royaume-Uni|au Royaume-Uni",
           "Reino Unido|en el Reino Unido", "Regno Unito|nel Regno Unito",
           "Verenigd Koninkrijk|in het Verenigd Koninkrijk"),
    "IE": ("Ireland", "Irland", "Irlande", "Irlanda", "Irlanda", "Ierland"),
    "DK": ("Denmark", "Dänemark", "Danemark|au Danemark", "Dinamarca", "Danimarca", "Denemarken"),
    "SE": ("Sweden", "Schweden", "Suède", "Suecia", "Svezia", "Zweden"),
    "NO": ("Norway", "Norwegen", "Norvège", "Noruega", "Norvegia", "Noorwegen"),
    "FI": ("Finland", "Finnland", "Finlande", "Finlandia", "Finlandia", "Finland"),
    "IS": ("Iceland", "Island", "Islande", "Islandia", "Islanda", "IJsland"),
    "PL": ("Poland", "Polen", "Pologne", "Polonia", "Polonia", "Polen"),
    "CZ": ("Czechia", "Tschechien", "Tchéquie", "Chequia", "Cechia", "Tsjechië"),
    "SK": ("Slovakia", "Slowakei|in der Slowakei", "Slovaquie", "Eslovaquia", "Slovacchia", "Slowakije"),
    "HU": ("Hungary", "Ungarn", "Hongrie", "Hungría", "Ungheria", "Hongarije"),
    "SI": ("Slovenia", "Slowenien", "Slovénie", "Eslovenia", "Slovenia", "Slovenië"),
    "HR": ("Croatia", "Kroatien", "Croatie", "Croacia", "Croazia", "Kroatië"),
    "ME": ("Montenegro", "Montenegro", "Monténégro|au Monténégro", "Montenegro", "Montenegro", "Montenegro"),
    "AL": ("Albania", "Albanien", "Albanie", "Albania", "Albania", "Albanië"),
    "GR": ("Greece", "Griechenland", "Grèce", "Grecia", "Grecia", "Griekenland"),
    "CY": ("Cyprus", "Zypern", "Chypre|à Chypre", "Chipre", "Cipro|a Cipro", "Cyprus"),
    "MT": ("Malta", "Malta", "Malte|à Malte", "Malta", "Malta|a Malta", "Malta"),
    "RO": ("Romania", "Rumänien", "Roumanie", "Rumanía", "Romania", "Roemenië"),
    "BG": ("Bulgaria", "Bulgarien", "Bulgarie", "Bulgaria", "Bulgaria", "Bulgarije"),
    "EE": ("Estonia", "Estland", "Estonie", "Estonia", "Estonia", "Estland"),
    "LV": ("Latvia", "Lettland", "Lettonie", "Letonia", "Lettonia", "Letland"),
    "LT": ("Lithuania", "Litauen", "Lituanie", "Lituania", "Lituania", "Litouwen"),
    "TR": ("Turkey", "Türkei|in der Türkei", "Turquie", "Turquía", "Turchia", "Turkije"),
    "MA": ("Morocco", "Marokko", "Maroc|au Maroc", "Marruecos", "Marocco", "Marokko"),
    "TN": ("Tunisia", "Tunesien", "Tunisie", "Túnez", "Tunisia", "Tunesië"),
    "EG": ("Egypt", "Ägypten", "Égypte", "Egipto", "Egitto", "Egypte"),
    "CV": ("Cape Verde", "Kap Verde", "Cap-Vert|au Cap-Vert", "Cabo Verde", "Capo Verde|a Capo Verde", "Kaapverdië"),
    "ZA": ("South Africa", "Südafrika", "Afrique du Sud", "Sudáfrica", "Sudafrica", "Zuid-Afrika"),
    "AE": ("United Arab Emirates|in the United Arab Emirates",
           "Vereinigte Arabische Emirate|in den Vereinigten Arabischen Emiraten",
           "Émirats arabes unis|aux Émirats arabes unis", "Emiratos Árabes Unidos|en los Emiratos Árabes Unidos",
           "Emirati Arabi Uniti|negli Emirati Arabi Uniti",
           "Verenigde Arabische Emiraten|in de Verenigde Arabische Emiraten"),
    "US": ("United States|in the United States", "USA|in den USA", "États-Unis|aux États-Unis",
           "Estados Unidos", "Stati Uniti|negli Stati Uniti", "Verenigde Staten|in de Verenigde Staten"),
    "CA": ("Canada", "Kanada", "Canada|au Canada", "Canadá", "Canada", "Canada"),
    "MX": ("Mexico", "Mexiko", "Mexique|au Mexique", "México", "Messico", "Mexico"),
    "BR": ("Brazil", "Brasilien", "Brésil|au Brésil", "Brasil", "Brasile", "Brazilië"),
    "AR": ("Argentina", "Argentinien", "Argentine", "Argentina", "Argentina", "Argentinië"),
    "CL": ("Chile", "Chile", "Chili|au Chili", "Chile", "Cile", "Chili"),
    "PE": ("Peru", "Peru", "Pérou|au Pérou", "Perú", "Perù", "Peru"),
    "JP": ("Japan", "Japan", "Japon|au Japon", "Japón", "Giappone", "Japan"),
    "CN": ("China", "China", "Chine", "China", "Cina", "China"),
    "TH": ("Thailand", "Thailand", "Thaïlande", "Tailandia", "Thailandia", "Thailand"),
    "VN": ("Vietnam", "Vietnam", "Viêt Nam|au Viêt Nam", "Vietnam", "Vietnam", "Vietnam"),
    "ID": ("Indonesia", "Indonesien", "Indonésie", "Indonesia", "Indonesia", "Indonesië"),
    "IN": ("India", "Indien", "Inde", "India", "India", "India"),
    "AU": ("Australia", "Australien", "Australie", "Australia", "Australia", "Australië"),
    "NZ": ("New Zealand", "Neuseeland", "Nouvelle-Zélande", "Nueva Zelanda", "Nuova Zelanda", "Nieuw-Zeeland"),
}  # fmt: skip

# Cities and regions by the name the geocoder writes (GeoNames: English for big cities).
_PLACES: dict[str, tuple[str, str, str, str, str, str]] = {
    "Lisbon": ("Lisbon", "Lissabon", "Lisbonne", "Lisboa", "Lisbona", "Lissabon"),
    "Porto": ("Porto", "Porto", "Porto", "Oporto", "Porto", "Porto"),
    "Seville": ("Seville", "Sevilla", "Séville", "Sevilla", "Siviglia", "Sevilla"),
    "Barcelona": ("Barcelona", "Barcelona", "Barcelone", "Barcelona", "Barcellona", "Barcelona"),
    "Valencia": ("Valencia", "Valencia", "Valence", "Valencia", "Valencia", "Valencia"),
    "Paris": ("Paris", "Paris", "Paris", "París", "Parigi", "Parijs"),
    "Marseille": ("Marseille", "Marseille", "Marseille", "Marsella", "Marsiglia", "Marseille"),
    "Nice": ("Nice", "Nizza", "Nice", "Niza", "Nizza", "Nice"),
    "Rome": ("Rome", "Rom", "Rome", "Roma", "Roma", "Rome"),
    "Florence": ("Florence", "Florenz", "Florence", "Florencia", "Firenze", "Florence"),
    "Venice": ("Venice", "Venedig", "Venise", "Venecia", "Venezia", "Venetië"),
    "Milan": ("Milan", "Mailand", "Milan", "Milán", "Milano", "Milaan"),
    "Naples": ("Naples", "Neapel", "Naples", "Nápoles", "Napoli", "Napels"),
    "Turin": ("Turin", "Turin", "Turin", "Turín", "Torino", "Turijn"),
    "Genoa": ("Genoa", "Genua", "Gênes", "Génova", "Genova", "Genua"),
    "Vienna": ("Vienna", "Wien", "Vienne", "Viena", "Vienna", "Wenen"),
    "Munich": ("Munich", "München", "Munich", "Múnich", "Monaco di Baviera", "München"),
    "Cologne": ("Cologne", "Köln", "Cologne", "Colonia", "Colonia", "Keulen"),
    "Berlin": ("Berlin", "Berlin", "Berlin", "Berlín", "Berlino", "Berlijn"),
    "Zurich": ("Zurich", "Zürich", "Zurich", "Zúrich", "Zurigo", "Zürich"),
    "Geneva": ("Geneva", "Genf", "Genève", "Ginebra", "Ginevra", "Genève"),
    "Prague": ("Prague", "Prag", "Prague", "Praga", "Praga", "Praag"),
    "Warsaw": ("Warsaw", "Warschau", "Varsovie", "Varsovia", "Varsavia", "Warschau"),
    "Krakow": ("Krakow", "Krakau", "Cracovie", "Cracovia", "Cracovia", "Krakau"),
    "Copenhagen": ("Copenhagen", "Kopenhagen", "Copenhague", "Copenhague", "Copenaghen", "Kopenhagen"),
    "Brussels": ("Brussels", "Brüssel", "Bruxelles", "Bruselas", "Bruxelles", "Brussel"),
    "Bruges": ("Bruges", "Brügge", "Bruges", "Brujas", "Bruges", "Brugge"),
    "Antwerp": ("Antwerp", "Antwerpen", "Anvers", "Amberes", "Anversa", "Antwerpen"),
    "The Hague": ("The Hague", "Den Haag", "La Haye", "La Haya", "L'Aia", "Den Haag"),
    "Amsterdam": ("Amsterdam", "Amsterdam", "Amsterdam", "Ámsterdam", "Amsterdam", "Amsterdam"),
    "London": ("London", "London", "Londres", "Londres", "Londra", "Londen"),
    "Edinburgh": ("Edinburgh", "Edinburgh", "Édimbourg", "Edimburgo", "Edimburgo", "Edinburgh"),
    "Dublin": ("Dublin", "Dublin", "Dublin", "Dublín", "Dublino", "Dublin"),
    "Athens": ("Athens", "Athen", "Athènes", "Atenas", "Atene", "Athene"),
    "Istanbul": ("Istanbul", "Istanbul", "Istanbul", "Estambul", "Istanbul", "Istanboel"),
    "New York": ("New York", "New York", "New York", "Nueva York", "New York", "New York"),
    "Andalusia": ("Andalusia", "Andalusien", "Andalousie", "Andalucía", "Andalusia", "Andalusië"),
    "Catalonia": ("Catalonia", "Katalonien", "Catalogne", "Cataluña", "Catalogna", "Catalonië"),
    "Tuscany": ("Tuscany", "Toskana|in der Toskana", "Toscane", "Toscana", "Toscana", "Toscane"),
    "Bavaria": ("Bavaria", "Bayern", "Bavière", "Baviera", "Baviera", "Beieren"),
    "Brittany": ("Brittany", "Bretagne|in der Bretagne", "Bretagne", "Bretaña", "Bretagna", "Bretagne"),
    "Sicily": ("Sicily", "Sizilien", "Sicile", "Sicilia", "Sicilia", "Sicilië"),
    "Sardinia": ("Sardinia", "Sardinien", "Sardaigne", "Cerdeña", "Sardegna", "Sardinië"),
    "Corsica": ("Corsica", "Korsika", "Corse", "Córcega", "Corsica", "Corsica"),
    "Tyrol": ("Tyrol", "Tirol", "Tyrol|au Tyrol", "Tirol", "Tirolo", "Tirol"),
    "Canary Islands": ("Canary Islands|on the Canary Islands", "Kanaren|auf den Kanaren",
                       "Canaries|aux Canaries", "Canarias", "Canarie|alle Canarie",
                       "Canarische Eilanden|op de Canarische Eilanden"),
    "Balearic Islands": ("Balearic Islands|on the Balearic Islands", "Balearen|auf den Balearen",
                         "Baléares|aux Baléares", "Islas Baleares|en las Islas Baleares", "Baleari|alle Baleari",
                         "Balearen|op de Balearen"),
}  # fmt: skip


def _fold(name: str) -> str:
    """'Sevilla', 'Séville', 'SEVILLE' -> 'sevilla', 'seville', 'seville' (no accents, any case)."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


@cache
def _place_keys() -> dict[str, str]:
    """Any spelling of a listed place (any language, with or without accents) -> its key.
    The geocoder writes some places in English ("Seville") and others in the local
    language or plain ASCII ("Sevilla", "Cadiz")."""
    keys: dict[str, str] = {}
    for key, row in _PLACES.items():
        for cell in (key, *row):
            keys.setdefault(_fold(cell.partition("|")[0]), key)
    return keys


def _entry(table: dict[str, tuple[str, ...]], key: str, language: str) -> tuple[str, str | None] | None:
    row = table.get(key)
    if row is None:
        return None
    name, _, phrase = row[_LANGS.index(language)].partition("|")
    return name, phrase or None


def country_name(code: str | None, language: str) -> tuple[str, str | None] | None:
    """(name, explicit in-phrase or None) of an ISO country code, if known."""
    return _entry(_COUNTRIES, (code or "").upper(), language) if code else None


def place_name(name: str, language: str) -> tuple[str, str | None]:
    """(local name, explicit in-phrase or None) of a city or region; unknown ones as given."""
    key = _place_keys().get(_fold(name))
    return (_entry(_PLACES, key, language) if key else None) or (name, None)


def all_country_names() -> dict[str, set[str]]:
    """ISO code -> every name of that country in every language (grounding checks)."""
    return {code: {cell.partition("|")[0] for cell in row} for code, row in _COUNTRIES.items()}


def all_place_names(name: str) -> set[str]:
    """Every language's name of a city or region (grounding checks)."""
    row = _PLACES.get(_place_keys().get(_fold(name), name))
    return {cell.partition("|")[0] for cell in row} | {name} if row else {name}


def gazetteer() -> dict[str, set[str]]:
    """Every city and region above -> its names in every language (grounding checks)."""
    return {key: {cell.partition("|")[0] for cell in row} for key, row in _PLACES.items()}
