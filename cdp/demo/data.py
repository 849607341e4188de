"""Word lists of the demo dataset: Turkish names, cities and districts, business types.

Weights are integers (relative frequencies); the generator expands them into lists and picks
by index, so a pick costs one hash per row whatever the list length.
"""

from __future__ import annotations

__all__ = [
    "BUSINESS_TYPES",
    "CATEGORIES",
    "CATEGORY_MIX",
    "CITIES",
    "EMAIL_DOMAINS",
    "FIRST_NAMES",
    "HORECA",
    "IYS_SOURCES",
    "LAST_NAMES",
    "MOBILE_PREFIXES",
    "PAYMENT_METHODS",
    "PURPOSES",
    "TOURIST_CITIES",
]

# Common Turkish given names, chosen to carry every Turkish letter (ç ğ ı İ ö ş ü).
FIRST_NAMES: tuple[str, ...] = (
    "Ayşe", "Fatma", "Emine", "Hatice", "Zeynep", "Elif", "Merve", "Özlem", "Büşra", "Gülşen",
    "Şule", "Çiğdem", "Gözde", "Dilek", "Nurcan", "Sevgül", "Tuğba", "Yasemin", "İpek", "Ebru",
    "Hülya", "Songül", "Derya", "Aslı", "Işıl", "Ilgın", "Şükran", "Gülizar", "Nazlı", "Öykü",
    "Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "İsmail", "Osman", "Yusuf",
    "Murat", "Ömer", "Ramazan", "Halil", "Süleyman", "Abdullah", "Mahmut", "Recep", "Şükrü", "Çağrı",
    "Gökhan", "Erdoğan", "Tuğrul", "Barış", "Oğuz", "Doğan", "Ilgaz", "Ufuk", "Ümit", "Kadir",
)

LAST_NAMES: tuple[str, ...] = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir",
    "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek",
    "Polat", "Özcan", "Korkmaz", "Çakır", "Erdoğan", "Yavuz", "Can", "Acar", "Şen", "Aktaş",
    "Güler", "Yalçın", "Güneş", "Bozkurt", "Bulut", "Keskin", "Ünal", "Turan", "Gül", "Özer",
    "İnce", "Işık", "Uçar", "Türkmen", "Sönmez", "Tekin", "Karagöz", "Gündüz", "Ateş", "Çiftçi",
    "Eren", "Kocabıyık", "Ilıcalı", "Büyükşahin", "Küçükgüllü", "Akgündüz", "Çağlayan", "Önal", "Özkum", "Ağaoğlu",
)

# (city, weight, districts). Weights follow population roughly; İstanbul dominates.
CITIES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("İstanbul", 300, ("Kadıköy", "Üsküdar", "Beşiktaş", "Şişli", "Bağcılar", "Esenyurt", "Ümraniye",
                       "Pendik", "Fatih", "Beylikdüzü", "Küçükçekmece", "Ataşehir")),
    ("Ankara", 90, ("Çankaya", "Keçiören", "Yenimahalle", "Mamak", "Etimesgut", "Sincan", "Altındağ")),
    ("İzmir", 70, ("Karşıyaka", "Bornova", "Konak", "Buca", "Çiğli", "Bayraklı", "Çeşme")),
    ("Bursa", 45, ("Nilüfer", "Osmangazi", "Yıldırım", "İnegöl", "Mudanya")),
    ("Antalya", 45, ("Muratpaşa", "Kepez", "Konyaaltı", "Alanya", "Manavgat", "Kemer", "Kaş")),
    ("Konya", 30, ("Selçuklu", "Meram", "Karatay", "Ereğli")),
    ("Adana", 28, ("Seyhan", "Çukurova", "Yüreğir", "Ceyhan")),
    ("Şanlıurfa", 25, ("Haliliye", "Eyyübiye", "Karaköprü", "Siverek")),
    ("Gaziantep", 25, ("Şahinbey", "Şehitkamil", "Nizip")),
    ("Kocaeli", 24, ("İzmit", "Gebze", "Darıca", "Körfez")),
    ("Mersin", 22, ("Yenişehir", "Mezitli", "Toroslar", "Tarsus", "Silifke")),
    ("Diyarbakır", 20, ("Bağlar", "Kayapınar", "Yenişehir", "Sur")),
    ("Kayseri", 17, ("Melikgazi", "Kocasinan", "Talas")),
    ("Eskişehir", 11, ("Odunpazarı", "Tepebaşı")),
    ("Samsun", 14, ("İlkadım", "Atakum", "Canik", "Bafra")),
    ("Muğla", 12, ("Bodrum", "Fethiye", "Marmaris", "Menteşe", "Dalaman", "Datça")),
    ("Aydın", 11, ("Efeler", "Kuşadası", "Didim", "Söke")),
    ("Çanakkale", 7, ("Merkez", "Gelibolu", "Ayvacık", "Bozcaada")),
    ("Trabzon", 8, ("Ortahisar", "Akçaabat", "Of")),
    ("Erzurum", 7, ("Yakutiye", "Palandöken", "Aziziye")),
    ("Van", 8, ("İpekyolu", "Tuşba", "Edremit")),
    ("Iğdır", 2, ("Merkez", "Tuzluca", "Aralık")),
    ("Muş", 3, ("Merkez", "Bulanık", "Malazgirt")),
    ("Ağrı", 3, ("Merkez", "Doğubayazıt", "Patnos")),
    ("Tekirdağ", 10, ("Süleymanpaşa", "Çorlu", "Çerkezköy")),
    ("Balıkesir", 12, ("Altıeylül", "Karesi", "Edremit", "Ayvalık")),
    ("Denizli", 10, ("Pamukkale", "Merkezefendi", "Çivril")),
    ("Kahramanmaraş", 11, ("Onikişubat", "Dulkadiroğlu", "Elbistan")),
    ("Hatay", 14, ("Antakya", "İskenderun", "Defne")),
    ("Nevşehir", 3, ("Merkez", "Ürgüp", "Göreme")),
)

# HORECA buyers in these cities follow the tourist season (summer peak, winter trough).
TOURIST_CITIES: frozenset[str] = frozenset({"Antalya", "Muğla", "Aydın", "İzmir", "Çanakkale", "Nevşehir"})

# business type -> (weight, mean basket TRY, yearly purchases, share of TACIR recipients)
BUSINESS_TYPES: tuple[tuple[str, int, float, float, float], ...] = (
    ("grocery", 27, 3200.0, 34.0, 0.80),
    ("market", 17, 6500.0, 40.0, 0.90),
    ("restaurant", 16, 4200.0, 30.0, 0.95),
    ("cafe", 12, 1700.0, 26.0, 0.85),
    ("hotel", 4, 9500.0, 22.0, 0.98),
    ("catering", 4, 8200.0, 28.0, 0.98),
    ("office", 11, 1300.0, 10.0, 0.75),
    ("kiosk", 9, 850.0, 30.0, 0.45),
)

HORECA: frozenset[str] = frozenset({"restaurant", "cafe", "hotel", "catering"})

CATEGORIES: tuple[str, ...] = (
    "beverages", "dry_food", "cleaning", "dairy", "meat", "frozen", "tobacco", "snacks", "household",
)

# business type -> category weights (same order as CATEGORIES)
CATEGORY_MIX: dict[str, tuple[int, ...]] = {
    "grocery":    (18, 22, 10, 14, 4, 5, 12, 11, 4),
    "market":     (16, 20, 12, 13, 8, 8, 9, 9, 5),
    "restaurant": (12, 22, 8, 16, 26, 12, 0, 2, 2),
    "cafe":       (34, 12, 8, 20, 2, 6, 2, 14, 2),
    "hotel":      (16, 16, 14, 14, 16, 10, 0, 6, 8),
    "catering":   (10, 26, 10, 14, 24, 12, 0, 2, 2),
    "office":     (40, 8, 18, 6, 0, 0, 0, 22, 6),
    "kiosk":      (26, 4, 0, 4, 0, 2, 40, 24, 0),
}

# (domain, weight); business domains are built from the surname (e.g. yilmazgida.com.tr)
EMAIL_DOMAINS: tuple[tuple[str, int], ...] = (
    ("gmail.com", 45), ("hotmail.com", 20), ("outlook.com", 8), ("yandex.com", 6), ("icloud.com", 4),
    ("yahoo.com", 5), ("mynet.com", 2), ("BUSINESS", 10),
)

# Turkish mobile operator prefixes (Turkcell 53x, Vodafone 54x, Türk Telekom 50x/55x)
MOBILE_PREFIXES: tuple[str, ...] = (
    "530", "531", "532", "533", "534", "535", "536", "537", "538", "539",
    "541", "542", "543", "544", "545", "546", "505", "506", "507", "551", "552", "553", "555",
)

# İYS consent source codes with weights
IYS_SOURCES: tuple[tuple[str, int], ...] = (
    ("HS_FIZIKSEL_ORTAM", 40), ("HS_ISLAK_IMZA", 15), ("HS_WEB", 20), ("HS_MOBIL", 8),
    ("HS_CAGRI_MERKEZI", 7), ("HS_EORTAM", 5), ("HS_ETKINLIK", 3), ("HS_2015", 2),
)

PAYMENT_METHODS: tuple[tuple[str, int], ...] = (
    ("nakit", 30), ("kredi_karti", 35), ("banka_karti", 20), ("havale", 10), ("yemek_karti", 5),
)

# (purpose, channel, İYS type or None, share of customers (with that contact) who grant it)
PURPOSES: tuple[tuple[str, str, str | None, float], ...] = (
    ("email_marketing", "email", "EPOSTA", 0.72),
    ("sms_marketing", "sms", "MESAJ", 0.64),
    ("call_marketing", "call", "ARAMA", 0.28),
    ("ads_targeting", "ads", None, 0.52),
)
