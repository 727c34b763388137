package community

// surnames are common Chinese surnames, roughly most frequent first (draws favour the front).
var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊白孟秦邱侯江尹薛闫段雷黎史龙陶贺顾毛郝龚邵万钱严覃武戴莫孔向汤")

// givenMale and givenFemale are characters of given names; givenCommon suits either.
var (
	givenMale   = []rune("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林峰建国志文博")
	givenFemale = []rune("芳娜敏静丽艳娟霞秀玲燕红婷雪琳晶洁欣怡颖佳慧倩梅莉兰凤瑶萍丹璐")
	givenCommon = []rune("小晓子思雨春海天嘉梓一家世永新玉云")
)

// compoundWords and compoundSuffixes build residential compound names (锦绣花园, 金沙苑 …).
var (
	compoundWords    = []string{"锦绣", "阳光", "金沙", "翠竹", "绿洲", "蓝天", "幸福", "和平", "东湖", "南苑", "滨江", "望江", "锦华", "紫荆", "桂花", "银杏", "芙蓉", "龙湖", "华府", "万科", "保利", "中海", "天府", "锦城", "书香", "怡心", "康乐", "长城", "新华", "光华"}
	compoundSuffixes = []string{"花园", "小区", "苑", "家园", "公寓", "雅居", "名城", "新村", "嘉园", "府"}
	roadWords        = []string{"人民", "建设", "解放", "新华", "文化", "光明", "团结", "和平", "青年", "长顺", "春熙", "红星", "顺城", "东风", "胜利", "复兴", "学府", "锦江", "府河", "沙河"}
	roadSuffixes     = []string{"路", "街", "大道", "巷", "南路", "北路", "东街", "西街"}
)

// migrantOrigins are real county-level address codes outside the city, with their names, for the
// resident IDs and household-register addresses of the floating population.
var migrantOrigins = []struct{ code, name string }{
	{"500101", "重庆市万州区"}, {"500103", "重庆市渝中区"}, {"511302", "四川省南充市顺庆区"},
	{"510703", "四川省绵阳市涪城区"}, {"511102", "四川省乐山市市中区"}, {"511602", "四川省广安市广安区"},
	{"530102", "云南省昆明市五华区"}, {"520102", "贵州省贵阳市南明区"}, {"420106", "湖北省武汉市武昌区"},
	{"610113", "陕西省西安市雁塔区"}, {"411002", "河南省许昌市魏都区"}, {"410105", "河南省郑州市金水区"},
	{"430102", "湖南省长沙市芙蓉区"}, {"620102", "甘肃省兰州市城关区"},
}

// mobilePrefixes are three-digit prefixes of mainland mobile numbers in use.
var mobilePrefixes = []string{
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153",
	"155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182",
	"183", "184", "185", "186", "187", "188", "189", "191", "193", "195", "198", "199",
}

// ethnicities are GB 3304 codes with their labels and shares in a south-western city.
var ethnicities = []struct {
	code, label string
	share       float64
}{
	{"01", "汉族", 0.955}, {"07", "彝族", 0.012}, {"04", "藏族", 0.01}, {"03", "回族", 0.007},
	{"15", "土家族", 0.005}, {"06", "苗族", 0.004}, {"08", "壮族", 0.003}, {"11", "满族", 0.002},
	{"02", "蒙古族", 0.002},
}

// Words of organisation names.
var (
	bizWords        = []string{"餐饮管理", "商贸", "科技", "建筑工程", "文化传媒", "家政服务", "教育咨询", "医药连锁", "汽车服务", "网络科技"}
	shopWords       = []string{"面馆", "便利店", "理发店", "五金店", "水果店", "茶馆", "火锅店", "干洗店", "药房", "小吃店"}
	socialOrgWords  = []string{"志愿者协会", "老年人协会", "文体协会", "社会工作服务中心", "邻里互助会"}
	publicBodyWords = []string{"社区卫生服务站", "幼儿园", "文化活动中心", "便民服务中心"}
)

// opinionTopics are opinions by category label (opinion_category): a title after the compound's
// name and a content template taking the place.
var opinionTopics = []struct{ label, title, content string }{
	{"环境卫生", "垃圾清运不及时", "%s楼下垃圾桶已经满了三天没有清运，气味很大，请尽快处理。"},
	{"物业管理", "物业服务不到位", "%s的电梯经常停运，物业报修后一直没人来修，希望社区督促物业。"},
	{"社会治安", "夜间有陌生人徘徊", "最近晚上%s附近经常有陌生人徘徊，门禁形同虚设，担心安全。"},
	{"交通出行", "小区门口乱停车", "%s门口车辆乱停乱放，消防通道被占用，早晚高峰出行困难。"},
	{"公共设施", "路灯损坏", "%s旁边的路灯坏了一个多月，晚上出行很不方便，请安排维修。"},
	{"邻里纠纷", "楼上漏水影响生活", "%s楼上住户家中漏水，协商多次无果，请社区帮忙调解。"},
	{"噪音扰民", "夜间施工噪音", "%s附近工地晚上十一点后还在施工，噪音很大，影响老人孩子休息。"},
	{"教育", "入学咨询", "孩子明年上小学，住在%s，想咨询对口学校和报名材料。"},
	{"医疗健康", "社区医院开放时间", "希望社区卫生服务站延长开放时间，%s老人较多，看病不方便。"},
	{"社会保障", "社保卡办理", "住在%s，咨询社保卡补办流程和需要的材料。"},
	{"政策咨询", "老旧小区改造政策", "%s是老旧小区，想了解加装电梯的补贴政策和申请流程。"},
	{"建议", "增设休闲座椅", "建议在%s附近的小广场增设一些休闲座椅，方便老人休息。"},
	{"表扬", "感谢网格员", "感谢网格员及时帮助%s的独居老人解决了燃气问题，服务很贴心。"},
}

// unknownCodes are values that look plausible but are not in a code table (KindUnknownCode), by
// code table; TestUnknownCodesAreUnknown checks them against the standard.
var unknownCodes = map[string][]string{
	"gender":            {"不详", "其他性别"},
	"ethnicity":         {"汉人", "华族", "穿青人", "其它民族"},
	"marital_status":    {"同居", "分居", "订婚"},
	"residence_status":  {"暂住", "寄住", "常住人口"},
	"house_use":         {"车位", "车库", "地下室"},
	"house_status":      {"装修中", "待售"},
	"residence_type":    {"室友", "托管", "亲戚"},
	"org_type":          {"个人独资", "外资", "分支机构"},
	"org_status":        {"筹建", "清算中"},
	"facility_category": {"雕塑", "广告牌"},
	"facility_status":   {"待验收", "闲置"},
	"opinion_category":  {"求助", "投诉举报", "其它问题"},
	"opinion_channel":   {"微博", "信件", "市长信箱"},
	"opinion_status":    {"已转办", "挂起"},
	"activity_category": {"商业促销", "团购"},
	"activity_status":   {"延期", "草稿"},
	"space_type":        {"停车位", "仓库"},
	"booking_status":    {"待审核", "已驳回"},
	"survey_category":   {"抽奖", "投票"},
}
