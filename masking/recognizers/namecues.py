"""The cues of the person-name recognizers (:mod:`.names`): the words before a name, the words
after it, the honorifics and titles, and the characters that end a given name.

Contract: plain constants, no logic; :mod:`.names` and the prefilter read them.
"""

from __future__ import annotations

from typing import Final

from masking.recognizers.words import MORE_CUES_BEFORE, MORE_PREPOSITIONS

_KIN: Final = (
    "子", "女", "妻", "夫", "父", "母", "配偶", "長子", "次子", "三子", "長女", "次女", "三女",
    "養子", "養女", "兄", "弟", "姊", "姐", "妹", "孫", "孫子", "孫女", "外孫", "外孫女", "媳",
    "媳婦", "女婿", "祖父", "祖母", "外祖父", "外祖母", "叔", "伯", "舅", "姨", "姑", "姪", "外甥",
    "前妻", "前夫", "繼子", "繼女", "繼父", "繼母", "岳父", "岳母", "兒子", "女兒", "先生",
    "太太", "丈夫", "父親", "母親", "哥哥", "弟弟", "姊姊", "姐姐", "妹妹", "胞兄", "胞弟",
    "胞姊", "胞妹", "遺孀", "遺屬", "長孫", "次孫", "曾孫", "孫媳", "姪子", "姪女",
    "繼承人", "代理人", "法定代理人", "監護人", "同居人",
)  # fmt: skip
"""Kinship and representation words: after ``之`` or ``其`` they lead a name (``申請人之子``)."""
KIN: Final = _KIN
_RELATIONAL: Final = tuple(p + k for k in _KIN for p in ("之", "其", "攜", "偕", "偕同", "攜同",
                                                        "帶", "陪同"))  # fmt: skip
"""``申請人之子``, ``其女``, and the person one comes with (``攜子``, ``偕妻``, ``陪同母親``)."""

CUES_BEFORE: Final = tuple(dict.fromkeys((
    "受款人", "申請人", "被保險人", "經辦人員", "經辦人", "承辦人員", "經辦", "辦理人",
    "受益人", "領款人", "請領人", "聯絡人", "連絡人", "代理人", "法定代理人", "監護人",
    "繼承人", "遺屬", "家屬", "配偶", "本人", "戶長", "案主", "當事人", "承辦人", "簽收人",
    "收件人", "父親", "母親", "兒子", "女兒", "長子", "次子", "長女", "次女", "養子", "養女",
    "胞兄", "胞弟", "胞姊", "胞妹", "姓名", "受託人", "委託人", "負責人", "祖父", "祖母", "孫子",
    "孫女", "同居人", "前配偶", "戶名", "帳戶名稱", "存戶", "存款人", "收款人", "匯款人",
    "立書人", "切結人", "具結人", "見證人", "保證人", "陳情人", "申訴人", "檢舉人", "報案人",
    "來電者", "來電人", "通報人", "遺孀", "遺眷", "亡者", "死者", "往生者", "被繼承人",
    "扶養人", "受扶養人", "受監護人", "輔助人", "受輔助人", "代領人", "代辦人", "委任人",
    "受任人", "親屬", "承租人", "出租人", "房東", "看護", "外籍看護", "外籍配偶", "新住民",
    "案父", "案母", "案妻", "案夫", "案子", "案女", "名字", "本名", "原名", "改名為", "更名為",
    "英文名", "護照姓名", "丈夫", "哥哥", "弟弟", "姊姊", "姐姐", "妹妹", "外孫", "媳婦", "女婿",
    "岳父", "岳母", "婆婆", "公公", "阿公", "阿嬤", "伯父", "叔叔", "舅舅", "姑姑", "同事",
    "友人", "鄰居", "里長", "經手人", "代收人", "民眾", "員工", "外籍員工", "翻譯", "自稱",
    "臨櫃者", "義務人", "債務人", "雇主", "僱主", "子女", "漢名", "爸爸", "媽媽", "太太", "老公",
    "老婆", "通知", "轉告", "告知", "聯繫", "找", "函查", "轉來", "受理", "退回", "協助",
    "收件", "寄給", "交給", "轉交", "夫", "妻", "父", "母", "代", *MORE_CUES_BEFORE,
    # The person by what they did, ``…者`` (``電詢者莎韻 阿布``), and names by their kind
    # (``舊名金子晴``).
    "電詢者", "詢問者", "申請者", "陳情者", "投訴者", "申訴者", "檢舉者", "反映者", "來訪者",
    "來函者", "寄件者", "收件者", "代辦者", "代理者", "受訪者", "當事者", "填表者", "簽收者",
    "領取者", "持有者", "使用者", "舊名", "新名", "別名", "曾用名", "化名", "俗名", "小名",
    "乳名", "舊姓名", "新姓名", "原姓名", "現場", "臨櫃",
    # Third round: roles of the person a remark is about or signed by.
    "被保人", "署名", "承辦", "選民", "通譯", "員警", "警員", "債權人", "書記官", "會員", "證人",
    *_RELATIONAL, *("代" + k for k in _KIN),
)))  # fmt: skip
"""Words directly before a name (``受款人王小明``, ``戶名：林美玲``, ``申請人之子王大明``)."""
HONORIFICS: Final = (
    "先生", "小姐", "女士", "太太", "君", "夫人", "阿嬤", "阿媽", "阿公", "阿伯", "阿姨", "伯伯",
    "媽媽", "爸爸", "老先生", "老太太", "奶奶", "爺爺", "同學", "伯", "嬸", "叔", "姨",
)  # fmt: skip
"""Honorifics: after a full name they confirm it (``林美玲女士``); after a surname alone they
make a form of address, no name (``王先生``)."""
VERBS_AFTER: Final = (
    "說", "稱", "講", "打來", "打電話", "的先生", "的太太", "的兒子", "的女兒", "的父親",
    "的母親", "的配偶", "的媽媽", "的爸爸", "的雇主", "的仲介", "的家屬", "的帳戶", "的薪資",
    "的申請",
)  # fmt: skip
"""Verbs and possessives after a full name of three or four characters (``莫文華說``), the name
standing after a boundary (not a Chinese character, or a preposition)."""
PREPOSITIONS: Final = ("和", "跟", "與", "找", "給", "向", "由", "請", "讓", "幫", "替", "陪",
                        *MORE_PREPOSITIONS)  # fmt: skip
"""Words before a name that lead it only with a full name (not part of the prefilter's cues)."""
CUES_AFTER: Final = (
    *HONORIFICS, "之子", "之女", "之妻", "之夫", "之父", "之母", "之配偶", "之遺屬", "之繼承人",
    "之代理人", "本人", "來電", "來函", "來信", "表示", "詢問", "反映", "親自",
)  # fmt: skip
"""Words directly after a name (``王小明先生``, ``陳大文之配偶``)."""
KIN_AFTER: Final = (
    "老婆", "老公", "家屬", "配偶", "妻子", "丈夫", "兒子", "女兒", "母親", "父親", "媽媽", "爸爸",
    "孫子", "孫女", "哥哥", "姊姊", "姐姐", "弟弟", "妹妹", "媳婦", "女婿", "遺孀", "遺屬",
)  # fmt: skip
"""Relations after a name, leading another person (``武氏芳老婆倪承恩``, ``西門明德家屬饒靜宜``):
after a full name they confirm it, like an honorific."""
PREDICATES: Final = (
    "提出", "代辦", "代領", "代理", "投訴", "陳情", "申訴", "檢舉", "反映", "表示", "要求",
    "詢問", "查詢", "來電", "來函", "來信", "來訪", "到場", "到櫃", "臨櫃", "親自", "填寫",
    "簽名", "簽章", "簽收", "簽具", "領取", "申請", "辦理", "補件", "補繳", "繳納", "同意",
    "委託", "授權", "死亡", "過世", "身故", "往生", "病故", "住院", "就醫", "遷居", "遷出",
    "遷入", "搬家", "搬遷", "強迫", "威脅", "辱罵", "騷擾", "拒絕", "拒收", "信件", "郵件",
    "電話", "手機", "帳戶", "帳號", "地址", "戶籍", "身分證", "證件", "存摺", "資料", "案件",
    "年金", "津貼", "給付", "保費", "退回", "受理", "無法", "尚未", "目前", "重複", "加保",
    "退保", "投保", "續保", "轉保", "欠費", "改名", "更名", "核定", "請領",
)  # fmt: skip
"""Verbs and nouns that follow a person in remarks (the subject's action, or what is theirs:
``石豪申請``, ``温偉電話打不通``, ``拉娃‧谷幸信件退回``)."""
TITLES: Final = (
    "先生", "小姐", "女士", "太太", "媽媽", "阿姨", "伯伯", "老師", "經理", "主任", "專員",
    "科員", "科長", "組長", "課長", "股長", "襄理", "處長", "局長", "站長", "辦事員", "書記",
    "技士", "醫師", "律師", "護理師", "社工", "里長", "村長", "議員", "代表", "同學", "老闆",
    "董事長", "總經理", "夫人", "阿嬤", "阿媽", "阿公", "阿伯", "爸爸", "老先生", "老太太",
    "奶奶", "爺爺", "君", "姓", "氏",
)  # fmt: skip
"""Words after a surname that make it a form of address, not a name (``黃專員``)."""
NAME_ENDS: Final = tuple(sorted({w for w in (*PREDICATES, *KIN_AFTER, *CUES_AFTER, *TITLES,
                                              *VERBS_AFTER, *HONORIFICS) if len(w) >= 2}))
"""Words that end a name where they begin (a name written with a dot or a space has no surname
to tell its length)."""
# Characters that end a given name: particles and verbs that follow a name in remarks.
NAME_STOP: Final = frozenset(
    "來電於在已未的是為和與及等因稱表申請領之到至住說要改欲需將係即也了有無不並再又今另自親本"
    "持簽或向從均仍尚以經由被把給對跟都就才所亦並、，。：:；;（）()［］「」『』〔〕【】"
)
