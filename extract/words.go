package extract

// Word lists the rules extractor consults. Keys are in normPhrase form
// (lower case, singular), built once at start.

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[normPhrase(w)] = true
	}
	return m
}

// excludedSubstances are ingredients the clinical record never lists as
// medications: gases, alcohol and street drugs (their mentions are social
// history), water.
var excludedSubstances = wordSet(
	"oxygen", "ethanol", "alcohol", "cocaine", "heroin", "marijuana", "cannabis", "methamphetamine",
	"tobacco", "water", "air", "medical air", "nitrogen", "carbon dioxide", "helium", "nitrous oxide",
	"caffeine", "crack", "lsd", "ecstasy", "mdma", "phencyclidine", "sterile water", "cannabis sativa",
	"tetrahydrocannabinol", "dronabinol", "lead", "titanium", "nickel", "cobalt", "tungsten",
	"mercury", "arsenic", "latex", "asbestos", "silicone", "stainless steel",
)

// labSubstances are ingredients that are also laboratory analytes or
// nutrients ("potassium 3.2", "iron studies", "glucose of 250"): they
// count as medications only with a dose, a route, a medication verb or in
// a medication list.
var labSubstances = wordSet(
	"potassium", "sodium", "calcium", "magnesium", "glucose", "iron", "phosphorus", "phosphate", "chloride",
	"bicarbonate", "sodium bicarbonate", "creatinine", "albumin", "hemoglobin", "cholesterol", "insulin", "zinc",
	"copper", "folate", "folic acid", "vitamin b 12", "cyanocobalamin", "lactate", "ammonia", "urea", "uric acid",
	"lithium", "nicotine", "thyroid", "thyrotropin", "thyrotrophin", "tsh", "heparin", "fibrinogen", "thrombin", "protein", "sodium chloride",
	"dextrose", "ferritin", "selenium", "iodine", "fluoride", "manganese", "chromium", "vitamin d", "vitamin a",
	"vitamin c", "vitamin e", "vitamin k", "ascorbic acid", "cholecalciferol", "ergocalciferol", "phytonadione",
	"testosterone", "estradiol", "progesterone", "cortisol", "hydrocortisone", "prolactin", "aldosterone",
	"renin", "gastrin", "glucagon", "immunoglobulin", "troponin", "bilirubin", "lipase", "amylase",
	"alkaline phosphatase", "digoxin", "vancomycin", "gentamicin", "tobramycin", "theophylline", "phenytoin",
	"valproate", "carbamazepine", "acetaminophen", "salicylate", "barium", "contrast", "gadolinium", "technetium",
	"fluorescein", "methacholine", "adenosine", "dobutamine", "regadenoson", "tuberculin", "thyroglobulin",
	"calcitonin", "parathyroid hormone", "insulin like growth factor", "somatotropin", "ceruloplasmin",
	"transferrin", "haptoglobin", "myoglobin", "lactoferrin", "hemoglobin a", "c reactive protein",
)

// commonWords are everyday English words that are also drug names in
// RxNorm (brands such as "Today" or "Prevail"): such a name counts only
// in a medication context. One- and two-letter names always need one.
var commonWords = wordSet(
	"today", "prevail", "focus", "complete", "balance", "control", "advance", "relief", "restore", "clear",
	"duet", "serenity", "sleep", "wash", "regular", "ultra", "plus", "max", "one", "day", "night", "cold",
	"hot", "ice", "care", "aid", "guard", "shield", "protect", "triple", "gentle", "natural", "pure", "fresh",
	"comfort", "ease", "simple", "soft", "boost", "cure", "defense", "vital", "energy", "heal", "calm", "rest",
	"nature", "alert", "bright", "keep", "trust", "heart", "joint", "bone", "skin", "eye", "ear", "nose",
	"back", "head", "foot", "hand", "feel", "free", "ready", "smart", "strong", "fit", "flex", "move", "act",
	"active", "dry", "wet", "safe", "good", "best", "first", "pain", "fever", "allergy", "sinus", "stress",
	"balm", "salt", "sugar", "milk", "honey", "lemon", "mint", "tea", "coffee", "oil", "fish", "corn", "rice",
	"oat", "wheat", "soy", "egg", "nut", "peanut", "apple", "orange", "grape", "cherry", "berry", "melon",
	"coconut", "olive", "garlic", "ginger", "cinnamon", "pepper", "mustard", "vanilla", "cocoa", "chocolate",
	"yeast", "clay", "sand", "stone", "iron", "gold", "silver", "copper", "tin", "lead", "wood", "pine",
	"cedar", "rose", "lavender", "aloe", "camphor", "menthol", "glycerin", "petrolatum", "lanolin", "talc",
	"wax", "soap", "dust", "mold", "grass", "tree", "weed", "pollen", "hair", "dog", "cat", "horse", "cattle",
	"feather", "latex", "nickel", "sun", "light", "air", "fire", "ocean", "rain", "snow", "star", "moon",
	"spring", "summer", "fall", "winter", "mega", "micro", "mini", "extra", "super", "senior", "junior",
	"women", "men", "kids", "baby", "children", "adult", "lady", "man", "woman", "boy", "girl", "family",
	"friend", "help", "hope", "life", "love", "peace", "joy", "happy", "zen", "spirit", "soul", "mind",
	"body", "power", "energy", "force", "action", "advantage", "benefit", "choice", "classic", "clean",
	"cool", "deep", "direct", "double", "dual", "easy", "essential", "fast", "formula", "fusion", "health",
	"ideal", "instant", "intense", "just", "lift", "liquid", "long", "maximum", "medic", "mild", "modern",
	"new", "nice", "nite", "non", "now", "only", "original", "perfect", "premium", "prime", "pro", "quick",
	"rapid", "real", "recovery", "renew", "repair", "rescue", "revive", "right", "select", "sensitive",
	"sheer", "silk", "smooth", "solo", "solution", "sport", "stable", "stay", "step", "stop", "support",
	"sure", "sweet", "swift", "tender", "therapy", "thin", "total", "touch", "true", "ultimate", "unique",
	"up", "value", "wise", "well", "wellness", "white", "black", "blue", "red", "green", "yellow", "pink",
	"purple", "brown", "gray", "grey", "cap", "tab", "pill", "drop", "spray", "patch", "gel", "cream", "paste",
	"powder", "tablet", "capsule", "lotion", "ointment", "foam", "mist", "film", "strip", "chew", "gum",
	"lozenge", "syrup", "elixir", "tonic", "magic", "miracle", "wonder", "genius", "hero", "champion",
	"victory", "triumph", "legend", "promise", "pledge", "oath", "vow", "bond", "link", "bridge", "gate",
	"path", "road", "way", "journey", "quest", "mission", "vision", "view", "sight", "scene", "sign", "mark",
	"point", "edge", "peak", "top", "tip", "base", "core", "heart", "center", "focus", "target", "aim",
	"goal", "end", "finish", "start", "begin", "open", "close", "shut", "lock", "key", "code", "plan",
	"design", "model", "style", "form", "shape", "size", "scale", "level", "grade", "rank", "class", "kind",
	"sort", "order", "rule", "law", "fact", "truth", "proof", "test", "trial", "check", "cast", "mix", "blend",
	"bed", "rid", "dial", "zest", "tone", "pulse", "beat", "rhythm", "flow", "stream", "wave", "tide",
	"current", "charge", "spark", "flash", "glow", "shine", "beam", "ray", "vivid", "lucid", "alive",
	"awake", "dream", "bliss", "grace", "glory", "honor", "pride", "royal", "noble", "elite", "prestige",
	"luxury", "deluxe", "standard", "basic", "general", "common", "normal", "usual", "daily", "weekly",
	"monthly", "yearly", "annual", "constant", "steady", "even", "level", "flat", "round", "square",
	"ring", "circle", "line", "bar", "band", "belt", "strap", "cord", "wire", "thread", "yarn", "fiber",
	"fibre", "fabric", "cotton", "wool", "linen", "leather", "rubber", "plastic", "glass", "metal", "steel",
	"alcohol", "water", "ice", "steam", "vapor", "smoke", "ash", "dust", "dirt", "mud", "soil", "earth",
	"world", "globe", "planet", "space", "time", "age", "era", "period", "moment", "second", "minute",
	"hour", "week", "month", "year", "decade", "century",
	"sense", "cycle", "stage", "phase", "bolus", "drip", "push", "flush", "load", "dose", "unit",
)

// englishWords are frequent words of clinical narrative that no fuzzy
// drug match may come from, whatever they sound like.
var englishWords = wordSet(
	"started", "start", "starting", "increase", "increased", "decrease", "continue", "continued", "slightly",
	"slight", "minimal", "history", "patient", "present", "presented", "presents", "reports", "reported",
	"denies", "denied", "states", "stated", "noted", "normal", "abnormal", "positive", "negative", "significant",
	"without", "within", "further", "follow", "following", "followed", "recommend", "recommended", "discussed",
	"however", "because", "several", "multiple", "bilateral", "bilaterally", "otherwise", "recently", "currently",
	"previously", "approximately", "evaluation", "examination", "treatment", "treated", "improved", "improving",
	"worse", "worsening", "better", "symptoms", "symptom", "episode", "episodes", "complains", "complaint",
	"complaints", "appears", "appeared", "showed", "shows", "revealed", "reveals", "consistent", "compatible",
	"unremarkable", "remarkable", "tender", "nontender", "distended", "soft", "clear", "regular", "irregular",
	"moderate", "severe", "mild", "chronic", "acute", "initial", "initially", "prescribed", "prescription",
	"medication", "medications", "medicine", "discharged", "admitted", "admission", "hospital", "emergency",
	"department", "clinic", "office", "visit", "appointment", "today", "yesterday", "tomorrow", "morning",
	"evening", "afternoon", "tonight", "weekly", "monthly", "daily", "actually", "basically", "probably",
	"possibly", "definitely", "certainly", "obviously", "honestly", "really", "pretty", "little", "should",
	"would", "could", "might", "maybe", "perhaps", "because", "anything", "something", "nothing", "everything",
	"someone", "anyone", "everyone", "people", "person", "family", "mother", "father", "sister", "brother",
	"husband", "daughter", "children", "school", "work", "working", "worked", "exercise", "walking", "walked",
	"sleeping", "eating", "drinking", "smoking", "breathing", "feeling", "thinking", "getting", "having",
	"taking", "making", "coming", "going", "looking", "trying", "using", "doing", "saying", "telling", "asking",
	"wanted", "needed", "needs", "helping", "helped", "happened", "happening", "remember", "understand",
	"explained", "explain", "question", "questions", "answer", "problem", "problems", "concerns", "concerned",
	"modulite", "spacer", "inhaler", "inhalers", "tablets", "capsules", "injection", "injections", "surgery",
	"procedure", "operation", "scheduled", "schedule", "planned", "planning", "return", "returned", "contact",
	"between", "through", "around", "about", "before", "after", "during", "since", "until", "while", "where",
	"which", "whether", "these", "those", "there", "their", "other", "another", "always", "never", "sometimes",
	"often", "usually", "already", "still", "again", "almost", "enough", "quite", "rather", "though",
	"although", "unless", "instead", "across", "along", "behind", "beyond", "inside", "outside", "toward",
	"towards", "upon", "within", "without", "become", "became", "becoming", "seemed", "seems", "second",
	"third", "fourth", "minutes", "hours", "months", "years", "weeks", "ago", "later", "earlier", "recent",
	"stable", "unchanged", "changed", "change", "changes", "resolved", "resolving", "persistent", "intermittent",
	"occasional", "occasionally", "frequent", "frequently", "constant", "constantly", "gradual", "gradually",
	"sudden", "suddenly", "progressive", "progressively", "significantly", "unclear", "uncertain",
)
