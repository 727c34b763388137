package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// resident is one simulated app user. Everything about a resident is drawn from (seed, index)
// alone, so resident i is the same whatever the number of residents or days.
type resident struct {
	community int // index into world.communities
	district  int // index into world.districts
	userID    string
	activity  float64 // chance of using the app on a given weekday
	age       int     // index into ageGroups
	favs      [2]int  // favourite category indexes
	devices   []device
	traits    Traits
}

// device is one installation of the app (or mini-program, or H5 origin) on one phone.
type device struct {
	platform platform
	anonID   string
	loginDay int64 // absolute day (days since 1970-01-01 in Shanghai) from which it is logged in
	ctx      Context
}

// neverDay is the loginDay of a device that never logs in.
const neverDay = math.MaxInt64

// dayNumber is the absolute day of t in Shanghai (days since 1970-01-01).
func dayNumber(t time.Time) int64 {
	return (t.Unix() + 8*3600) / 86400
}

func (s *Simulator) newResident(i int, firstDay, lastDay int64) resident {
	w := s.world
	r := rand.New(rand.NewPCG(uint64(s.cfg.Seed), mix(uint64(i), 0x7e51de)))
	var res resident
	res.community = w.homes.sample(r)
	res.district = w.communities[res.community].district
	ages := tableOf(ageGroupShares)
	res.age = ages.sample(r)

	if r.Float64() < HeavyUserShare {
		res.activity = HeavyActivityMin + (HeavyActivityMax-HeavyActivityMin)*r.Float64()
	} else {
		res.activity = LightActivityMin + (LightActivityMax-LightActivityMin)*r.Float64()
	}
	res.activity = math.Min(res.activity*w.districts[res.district].activity, MaxActivity)

	fav := &w.favourite[res.age]
	res.favs[0] = fav.sample(r)
	res.favs[1] = res.favs[0]
	for try := 0; try < 16 && res.favs[1] == res.favs[0]; try++ {
		res.favs[1] = fav.sample(r)
	}

	registered := r.Float64() < RegisteredShare
	if registered {
		res.userID = "u" + strings.ReplaceAll(nameUUID(s.cfg.Seed, idUser, uint64(i), 0, 0), "-", "")[:16]
	}
	gender := "female"
	if r.IntN(2) == 0 {
		gender = "male"
	}
	regDay := firstDay - 1 - int64(r.IntN(1000))
	res.traits = Traits{
		Gender:       gender,
		AgeGroup:     ageGroups[res.age],
		RegionCode:   w.communities[res.community].code,
		RegisteredAt: time.Unix(regDay*86400, 0).UTC().Format("2006-01-02"),
	}

	nDev := 1
	if r.Float64() < SecondDeviceShare {
		nDev = 2
	}
	shares := platformShares
	for p := range shares {
		shares[p] *= agePlatformTilt[res.age][p]
	}
	pt := tableOf(shares[:])
	for k := 0; k < nDev; k++ {
		p := platform(pt.sample(r))
		if k == 1 && p == res.devices[0].platform {
			p = platform(pt.sample(r)) // a second device is usually another client kind
		}
		d := device{platform: p, loginDay: neverDay}
		d.anonID = nameUUID(s.cfg.Seed, idAnonymous, uint64(i), uint64(k), 0)
		if registered {
			switch u := r.Float64(); {
			case u < DeviceLoggedInShare:
				d.loginDay = firstDay - 1
			case u < DeviceLoggedInShare+DeviceLoginLaterShare:
				d.loginDay = firstDay + r.Int64N(lastDay-firstDay+1)
			}
		}
		d.ctx = deviceContext(r, p, nameUUID(s.cfg.Seed, idDevice, uint64(i), uint64(k), 0))
		d.ctx.RegionCode = res.traits.RegionCode
		res.devices = append(res.devices, d)
	}
	return res
}

// Client catalogues: phone models, OS versions, SDKs, app versions.
var (
	androidPhones = [][2]string{
		{"HUAWEI", "ALN-AL00"}, {"HUAWEI", "FOA-AL00"}, {"Xiaomi", "23127PN0CC"}, {"Xiaomi", "2211133C"},
		{"OPPO", "PJX110"}, {"vivo", "V2309A"}, {"vivo", "V2324A"}, {"HONOR", "BVL-AN00"},
		{"OnePlus", "PJD110"}, {"samsung", "SM-S9110"},
	}
	androidVersions = []string{"10", "11", "12", "13", "14"}
	iPhones         = []string{"iPhone12,1", "iPhone13,2", "iPhone14,5", "iPhone14,2", "iPhone15,2", "iPhone15,4", "iPhone16,1"}
	iosVersions     = []string{"16.7.8", "17.5.1", "17.6.1", "18.1"}
	appVersions     = []struct {
		version, build string
		share          float64
	}{{"3.2.0", "320", 0.55}, {"3.1.4", "314", 0.30}, {"3.0.9", "309", 0.15}}
)

// deviceContext draws the context of a new device of platform p.
func deviceContext(r *rand.Rand, p platform, deviceID string) Context {
	c := Context{Locale: "zh-CN", Timezone: "Asia/Shanghai"}
	phoneIsIOS := p == platformIOS || (p >= platformMini && r.Float64() < 0.35)
	var model string
	if phoneIsIOS {
		model = iPhones[r.IntN(len(iPhones))]
		c.OS = OS{Name: "iOS", Version: iosVersions[r.IntN(len(iosVersions))]}
		c.Device = Device{ID: deviceID, Manufacturer: "Apple", Model: model, Type: "ios"}
	} else {
		ph := androidPhones[r.IntN(len(androidPhones))]
		model = ph[1]
		c.OS = OS{Name: "Android", Version: androidVersions[r.IntN(len(androidVersions))]}
		c.Device = Device{ID: deviceID, Manufacturer: ph[0], Model: model, Type: "android"}
	}
	av := appVersions[len(appVersions)-1]
	u := r.Float64()
	for _, v := range appVersions {
		if u < v.share {
			av = v
			break
		}
		u -= v.share
	}
	ua := func(suffix string) string {
		if phoneIsIOS {
			return strings.TrimSpace(fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 %s", c.OS.Version, suffix))
		}
		return strings.TrimSpace(fmt.Sprintf("Mozilla/5.0 (Linux; Android %s; %s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 %s", c.OS.Version, model, suffix))
	}
	switch p {
	case platformAndroid:
		c.App = App{Name: AppName, Version: av.version, Build: av.build}
		c.Library = Library{Name: "analytics-android", Version: "4.11.3"}
	case platformIOS:
		c.App = App{Name: AppName, Version: av.version, Build: av.build}
		c.Library = Library{Name: "analytics-ios", Version: "4.1.8"}
	case platformMini:
		c.App = App{Name: AppName + "小程序", Version: "2.8.1", Build: "281"}
		c.Library = Library{Name: "analytics-miniprogram", Version: "1.2.0"}
		c.Device.Type = "miniprogram"
		c.UserAgent = ua("MicroMessenger/8.0.49 miniProgram")
	case platformH5:
		c.App = App{Name: AppName + "H5", Version: "1.16.0", Build: "1160"}
		c.Library = Library{Name: "analytics.js", Version: "next-1.70.0"}
		c.Device = Device{ID: deviceID, Type: "web"}
		c.UserAgent = ua("")
	}
	return c
}
