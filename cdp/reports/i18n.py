"""UI text of the HTML report in English and Turkish (`cdp report --lang tr|en`)."""

from __future__ import annotations

__all__ = ["TEXT", "t", "LANGS"]

LANGS = ("en", "tr")

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "Customer segmentation report", "tr": "Müşteri segmentasyonu raporu"},
    "generated": {"en": "Generated", "tr": "Oluşturulma"},
    "as_of": {"en": "as of", "tr": "itibarıyla"},
    "overview": {"en": "Overview", "tr": "Genel bakış"},
    "customers": {"en": "Customers", "tr": "Müşteriler"},
    "events": {"en": "Events", "tr": "Olaylar"},
    "buyers_12m": {"en": "Buyers in the last 12 months", "tr": "Son 12 ayda alışveriş yapanlar"},
    "revenue_12m": {"en": "Revenue, last 12 months", "tr": "Ciro, son 12 ay"},
    "consent_events": {"en": "Consent events", "tr": "İzin kayıtları"},
    "segments": {"en": "Segments", "tr": "Segmentler"},
    "segment": {"en": "Segment", "tr": "Segment"},
    "members": {"en": "Members", "tr": "Üye"},
    "control": {"en": "Control", "tr": "Kontrol"},
    "share": {"en": "Share", "tr": "Pay"},
    "last_build": {"en": "Last build", "tr": "Son oluşturma"},
    "sizes_over_time": {"en": "Segment sizes over time", "tr": "Zaman içinde segment büyüklükleri"},
    "segment_sizes": {"en": "Segment sizes (latest build)", "tr": "Segment büyüklükleri (son oluşturma)"},
    "rfm_grid": {"en": "RFM grid: customers by recency (R) and frequency (F) score",
                 "tr": "RFM tablosu: yenilik (R) ve sıklık (F) puanına göre müşteriler"},
    "rfm_segments": {"en": "RFM segments", "tr": "RFM segmentleri"},
    "clusters": {"en": "Cluster models", "tr": "Kümeleme modelleri"},
    "cluster_profile": {"en": "Cluster profile", "tr": "Küme profili"},
    "cluster": {"en": "Cluster", "tr": "Küme"},
    "size": {"en": "Size", "tr": "Büyüklük"},
    "projection": {"en": "2-D projection (PCA) of a sample, coloured by cluster",
                   "tr": "Örneklemin 2 boyutlu izdüşümü (PCA), kümeye göre renkli"},
    "k_selection": {"en": "Choosing k", "tr": "k seçimi"},
    "transitions": {"en": "Transitions between builds", "tr": "Oluşturmalar arası geçişler"},
    "from": {"en": "from", "tr": "önce"},
    "to": {"en": "to", "tr": "sonra"},
    "none_segment": {"en": "(none)", "tr": "(yok)"},
    "campaigns": {"en": "Campaign results", "tr": "Kampanya sonuçları"},
    "campaign": {"en": "Campaign", "tr": "Kampanya"},
    "treatment": {"en": "Treatment", "tr": "Hedef grup"},
    "response_rate": {"en": "Response rate", "tr": "Dönüş oranı"},
    "revenue_per_member": {"en": "Revenue per member", "tr": "Üye başına ciro"},
    "uplift": {"en": "Uplift", "tr": "Artış"},
    "incremental_revenue": {"en": "Incremental revenue", "tr": "Ek ciro"},
    "p_value": {"en": "p-value", "tr": "p-değeri"},
    "ci95": {"en": "95% interval", "tr": "%95 aralık"},
    "significant": {"en": "significant at 5%", "tr": "%5 düzeyinde anlamlı"},
    "not_significant": {"en": "no significant difference", "tr": "anlamlı fark yok"},
    "consent_coverage": {"en": "Consent coverage by purpose and channel", "tr": "Amaç ve kanala göre izin kapsamı"},
    "purpose": {"en": "Purpose", "tr": "Amaç"},
    "channel": {"en": "Channel", "tr": "Kanal"},
    "granted": {"en": "Granted", "tr": "Onaylı"},
    "withdrawn": {"en": "Withdrawn / refused", "tr": "Geri çekilmiş / ret"},
    "no_record": {"en": "No record", "tr": "Kayıt yok"},
    "syncs": {"en": "Last syncs", "tr": "Son aktarımlar"},
    "sync": {"en": "Sync", "tr": "Aktarım"},
    "destination": {"en": "Destination", "tr": "Hedef platform"},
    "status": {"en": "Status", "tr": "Durum"},
    "adds": {"en": "Added", "tr": "Eklenen"},
    "removes": {"en": "Removed", "tr": "Çıkarılan"},
    "exclusions": {"en": "Excluded, by reason", "tr": "Hariç tutulanlar, nedene göre"},
    "no_data": {"en": "no data yet", "tr": "henüz veri yok"},
    "small_cells": {"en": "Groups under {n} customers are shown as <{n}.",
                    "tr": "{n} müşteriden küçük gruplar <{n} olarak gösterilir."},
    "privacy_note": {"en": "Pseudonymous aggregates only: no name, email, phone or tax id appears in this report.",
                     "tr": "Yalnızca takma adlı toplu veriler: bu raporda ad, e-posta, telefon veya vergi numarası yer almaz."},
}


def t(lang: str, key: str, **fmt: object) -> str:
    text = TEXT[key].get(lang) or TEXT[key]["en"]
    return text.format(**fmt) if fmt else text
