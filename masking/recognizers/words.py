"""Common words the person-name recognizers must not take for names.

Contract: :data:`NOT_NAMES` holds two-character words (and place names) that start with a
surname character (``金額``, ``高雄``, ``林口``): a candidate name equal to one of them, or
starting with one, is no name. :data:`NOT_LATIN_WORDS` holds capitalised Latin words of
organisations, places, services and months: a run of capitalised words holding one is no name.
"""

from __future__ import annotations

from typing import Final

NOT_NAMES: Final = frozenset(
    (
        "金額", "方便", "方式", "方面", "高齡", "何時", "何處", "曾經", "連同", "連絡", "任何",
        "任職", "成為", "成功", "簡易", "簡單", "陸續", "尤其", "顧客", "馬上", "高雄", "金門",
        "連江", "萬元", "周一", "周末", "黃金", "許可", "程序", "溫度", "施行", "包括", "童年",
        "嚴重", "石頭", "白天", "田地", "古蹟", "康復", "余額", "游泳", "宋朝", "林口", "江湖",
        "史料", "官方", "毛利", "章程", "秦朝", "萬一", "雷同", "于是", "俞允", "姚明", "夏天",
        "柳丁", "金融", "錢款", "伍佰", "任意", "甘願", "杜絕", "傅達", "丁未", "方能", "曹操",
        "方向", "方案", "方法", "高中", "高於", "高額", "簡訊", "簡稱", "簡章", "施工", "施打",
        "顏色", "孫子", "孫女", "連續", "連結", "程度", "紀錄", "紀念", "嚴格", "韓國", "歐洲",
        "許多", "陳述", "陳情", "謝謝", "周知", "周邊", "周年", "葉子", "莊園", "何況", "蕭條",
        "羅列", "胡亂", "沈默", "董事", "藍色", "鐘頭", "鐘點", "顧及", "戴口", "范本", "梁柱",
        "卓越", "溫暖", "唐突", "蘇打", "洪水", "張貼", "吳郭", "楊桃", "鄭重", "黃昏", "林地",
        "金庫", "齊全", "官網", "陸配", "華僑", "費用", "項目", "衛福", "管理", "銀行", "勞保",
        "勞工", "健保", "國保", "農保", "高鐵", "高速", "童顏", "石門", "田中", "江蘇", "周到",
        "萬華", "馬來", "黃色", "白色", "古早", "余下", "湯匙", "向來", "全家", "同意", "申請",
        "通知", "相關", "查詢", "查明", "後續", "應於", "經查", "常住", "居住", "從事", "原住",
        "明細", "國民", "國泰", "安養", "平日", "成年", "容易", "時間", "信箱", "保險", "修正",
        "南投", "德國", "承辦", "易於", "東區", "利息", "師大", "公所", "公司", "法院", "商業",
        "年金", "愛心", "福利", "元月", "家屬", "家中", "山區", "武陵", "關於", "龍潭", "宜蘭",
        "台北", "臺北", "台中", "臺中", "台南", "臺南", "台東", "臺東", "新北", "新竹", "苗栗",
        "彰化", "雲林", "嘉義", "屏東", "花蓮", "澎湖", "桃園", "基隆", "馬祖", "蘭嶼", "綠島",
        "鳳山", "岡山", "路竹", "湖內", "林園", "大寮", "仁武", "龍井", "沙鹿", "梧棲", "清水",
        "石碇", "萬里", "金山", "貢寮", "雙溪", "平溪", "汐止", "林內", "古坑", "莿桐", "白河",
        "柳營", "麻豆", "佳里", "學甲", "關廟", "歸仁", "安南", "安平", "左營", "楠梓", "前鎮",
        "苓雅", "鼓山", "旗津", "小港", "鹽埕", "三民", "新興", "前金", "左鎮", "玉井", "楠西",
        "南化", "龍崎", "官田", "東山", "後壁", "新營", "鹽水", "下營", "六甲", "將軍", "北門",
        "七股", "西港", "安定", "善化", "新市", "山上", "新化", "永康", "仁德", "關山", "池上",
        "鹿野", "卑南", "太麻", "大武", "達仁", "金峰", "長濱", "東河", "海端", "延平", "萬榮",
        "鳳林", "光復", "瑞穗", "富里", "玉里", "卓溪", "秀林", "吉安", "壽豐", "新城", "車城",
        "恆春", "滿州", "牡丹", "獅子", "枋山", "枋寮", "春日", "林邊", "佳冬", "東港", "萬丹",
        "潮州", "萬巒", "竹田", "內埔", "麟洛", "長治", "九如", "里港", "鹽埔", "高樹", "三地",
        "霧台", "瑪家", "泰武", "來義", "新埤", "南州", "崁頂", "琉球", "竹東", "竹北", "湖口",
        "新豐", "關西", "芎林", "寶山", "北埔", "峨眉", "尖石", "五峰", "橫山", "頭份", "竹南",
        "後龍", "通霄", "苑裡", "卓蘭", "大湖", "公館", "銅鑼", "南庄", "頭屋", "三義", "西湖",
        "造橋", "三灣", "獅潭", "泰安", "豐原", "東勢", "大甲", "霧峰", "太平", "大里", "烏日",
        "大肚", "潭子", "大雅", "神岡", "后里", "外埔", "大安", "石岡", "新社", "和平", "員林",
        "鹿港", "和美", "溪湖", "田尾", "北斗", "二林", "芳苑", "大城", "竹塘", "溪州", "埤頭",
        "社頭", "永靖", "二水", "伸港", "線西", "福興", "秀水", "花壇", "芬園", "大村", "埔鹽",
        "埔心", "草屯", "竹山", "集集", "名間", "鹿谷", "中寮", "魚池", "國姓", "水里", "信義",
        "仁愛", "斗六", "斗南", "虎尾", "西螺", "土庫", "北港", "大埤", "元長", "褒忠", "臺西",
        "台西", "崙背", "麥寮", "二崙", "口湖", "水林", "四湖", "朴子", "布袋", "大林", "民雄",
        "溪口", "新港", "六腳", "東石", "義竹", "鹿草", "太保", "水上", "中埔", "竹崎", "梅山",
        "番路", "大埔", "阿里", "馬公", "湖西", "白沙", "西嶼", "望安", "七美", "金城", "金湖",
        "金沙", "金寧", "烈嶼", "南竿", "北竿", "莒光", "東引", "羅東", "蘇澳", "頭城", "礁溪",
        "壯圍", "員山", "冬山", "五結", "三星", "大同", "南澳", "板橋", "三重", "中和", "永和",
        "新莊", "新店", "樹林", "鶯歌", "三峽", "淡水", "瑞芳", "土城", "蘆洲", "五股", "泰山",
        "深坑", "坪林", "三芝", "八里", "烏來", "中壢", "平鎮", "新屋", "觀音", "龜山", "八德",
        "大溪", "復興", "大園", "蘆竹", "士林", "北投", "內湖", "南港", "文山", "中山", "中正",
        "松山", "安樂", "暖暖", "七堵", "香山",
    )
)  # fmt: skip
"""Words starting with a surname character that are no names (place names included)."""

NOT_LATIN_WORDS: Final = frozenset(
    ("Bank", "City", "County", "Taiwan", "Taipei", "Road", "Rd", "District", "Co", "Ltd", "Inc",
     "Insurance", "Bureau", "Labor", "Labour", "Pay", "ID", "LINE", "Line", "Google", "Maps",
     "Facebook", "Group", "Service", "Center", "Centre", "Office", "Hospital", "University",
     "Street", "St", "Section", "Lane", "Alley", "Floor", "No", "Email", "Mail", "Phone", "Tel",
     "Fax", "Mobile", "Account", "Post", "Box", "Card", "App", "Store", "Apple", "Android",
     "Official", "Rep", "Dear", "Mr", "Mrs", "Ms", "Miss", "Dr", "The", "Of", "And", "For",
     "Please", "Thank", "Thanks", "OK", "ATM", "PDF", "Word", "Excel", "New", "National",
     "Ministry", "Health", "Welfare", "Department", "Agency", "Limited", "Company", "Corp",
     "Corporation", "Industrial", "Commercial", "Republic", "China", "ROC", "Threads",
     "Instagram", "Telegram", "WeChat", "Dcard", "YouTube", "TikTok", "Messenger", "WhatsApp",
     "Skype", "Twitter", "Yahoo", "Gmail", "Hotmail", "Outlook", "Microsoft", "Chrome", "Edge",
     "Windows", "iPhone", "Samsung", "Visa", "Master", "Express", "DHL", "FedEx", "UPS", "EMS",
     "Chunghwa", "Telecom", "Cathay", "United", "Fubon", "Mega", "First", "Hua", "Nan", "Sinopac",
     "Esun", "Union", "Standard", "Chartered", "Citibank", "HSBC", "Land", "Cooperative",
     "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January",
     "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December", "SOP", "QA", "FAQ", "IG", "FB", "TG", "PTT")
)  # fmt: skip
"""Capitalised Latin words that are no part of a person's name (case-insensitive)."""
